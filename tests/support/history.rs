//! A large, realistic history written straight into a database, for benchmarks: conversations of
//! alternating questions and replies (each reply the child of its question), mixed English and
//! Chinese, short questions and longer replies. Deterministic for a given seed.
#![allow(dead_code)]

use rusqlite::{params, Connection};

const EN: &[&str] = &[
    "the",
    "model",
    "answer",
    "question",
    "data",
    "python",
    "function",
    "error",
    "because",
    "should",
    "server",
    "request",
    "token",
    "context",
    "window",
    "example",
    "rust",
    "memory",
    "thread",
    "async",
    "database",
    "index",
    "search",
    "query",
    "result",
    "value",
    "string",
    "number",
    "list",
    "file",
    "please",
    "explain",
    "how",
    "why",
    "what",
    "when",
    "could",
    "would",
    "with",
    "without",
    "into",
    "learning",
    "network",
    "training",
    "prompt",
    "reply",
    "latency",
    "stream",
    "cache",
    "branch",
    "compile",
    "release",
    "deploy",
    "docker",
    "kubernetes",
    "linux",
    "browser",
    "render",
    "layout",
    "recipe",
    "travel",
    "history",
    "music",
    "weather",
    "garden",
    "budget",
    "invoice",
    "meeting",
];
const ZH: &[&str] = &[
    "我们",
    "今天",
    "讨论",
    "机器学习",
    "模型",
    "数据",
    "问题",
    "回答",
    "因为",
    "所以",
    "可以",
    "需要",
    "服务器",
    "请求",
    "上下文",
    "例子",
    "内存",
    "线程",
    "数据库",
    "索引",
    "搜索",
    "结果",
    "字符串",
    "函数",
    "错误",
    "训练",
    "网络",
    "提示词",
    "延迟",
    "缓存",
    "分支",
    "编译",
    "发布",
    "部署",
    "浏览器",
    "天气",
    "旅行",
    "历史",
    "音乐",
    "花园",
    "预算",
    "会议",
    "学习",
    "中文",
    "处理",
    "性能",
    "优化",
    "你好",
    "谢谢",
    "如何",
    "为什么",
    "什么",
    "时候",
    "一个",
    "这个",
    "那个",
    "非常",
    "重要",
    "简单",
];

/// A small deterministic generator (xorshift), so runs are comparable.
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng(seed.max(1))
    }
    pub fn next_u64(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        self.0 = x;
        x
    }
    pub fn below(&mut self, n: usize) -> usize {
        (self.next_u64() % n as u64) as usize
    }
}

const SYLLABLES: &[&str] = &[
    "ka", "lo", "mi", "ra", "ten", "por", "sel", "vin", "da", "qu", "ex", "tro", "ble", "ment",
    "ing", "er", "an", "co", "di", "pre", "sta", "un", "re", "ful", "ness", "tion", "al", "ver",
    "pa", "ni",
];
const HANZI: &str = "的一是不了人我在有他这中大来上国个到说们为子和你地出道也时年得就那要下以生会自着去之过家学对可\
    里后小么心多天而能好都然没日于起还发成事只作当想看文无开手十用主行方又如前所本见经头面公同三已老从动两长知民样现分将外但身些与高意进\
    把法此实回二理美点月明其种声全工己话儿者向情部正名定女问力机给等几很业最间新什打便位因重被走电四第门相次东政海口使教西再平真听世气信北\
    少关并内加化由却代军产入先山五太水万市眼体别处总才场师书比住员九笑性通目华报立马命张活难神数件安表原车白应路期叫死常提感金何更反合放做\
    系计或司利受光王果亲界及今京务制解各任至清物台象记边共风战干接它许八特觉望直服毛林题建南度统色字请交爱让认算论百吃义科怎元社术结六功指\
    思非流每青管夫连远资队跟带花快条院变联言权往展该领传近留红治决周保达办运武半候七必城父强步完革深区即求品士转量空甚众技轻程告江语英基派";
/// Distinct words per language; word `rank` is used about 1/(rank + 1) as often as the first.
const VOCAB: usize = 20_000;

/// English-like and Chinese words with Zipf frequencies (a few very common, most rare), as in real
/// text: a search for a rare word has few hits, a common one very many.
pub struct Vocab {
    pub en: Vec<String>,
    pub zh: Vec<String>,
    cdf: Vec<f64>,
}

/// P(rank ≤ r) when a word's frequency is 1 / (rank + 1) (Zipf's law).
fn zipf_cdf() -> Vec<f64> {
    let mut cdf = Vec::with_capacity(VOCAB);
    let mut sum = 0.0;
    for r in 0..VOCAB {
        sum += 1.0 / (r as f64 + 1.0);
        cdf.push(sum);
    }
    cdf.iter_mut().for_each(|x| *x /= sum);
    cdf
}

impl Default for Vocab {
    fn default() -> Vocab {
        Vocab::new()
    }
}

impl Vocab {
    pub fn new() -> Vocab {
        let mut rng = Rng::new(99);
        let mut en: Vec<String> = EN.iter().map(|w| w.to_string()).collect();
        let mut seen: std::collections::HashSet<String> = en.iter().cloned().collect();
        while en.len() < VOCAB {
            let n = 2 + rng.below(2);
            let w: String = (0..n)
                .map(|_| SYLLABLES[rng.below(SYLLABLES.len())])
                .collect();
            if seen.insert(w.clone()) {
                en.push(w);
            }
        }
        let hanzi: Vec<char> = HANZI
            .chars()
            .filter(|c| !c.is_whitespace() && *c != '\\')
            .collect();
        let mut zh: Vec<String> = ZH.iter().map(|w| w.to_string()).collect();
        let mut seen: std::collections::HashSet<String> = zh.iter().cloned().collect();
        while zh.len() < VOCAB {
            let n = 1 + rng.below(3);
            let w: String = (0..n).map(|_| hanzi[rng.below(hanzi.len())]).collect();
            if seen.insert(w.clone()) {
                zh.push(w);
            }
        }
        Vocab {
            en,
            zh,
            cdf: zipf_cdf(),
        }
    }

    /// Real words instead: `en.txt` and `zh.txt` in `dir`, one word a line, most frequent first
    /// (tests/bench/vocab.py writes them from wordfreq's tables); the same Zipf sampling by rank.
    pub fn from_dir(dir: &std::path::Path) -> Vocab {
        let read = |name: &str| -> Vec<String> {
            let path = dir.join(name);
            let text = std::fs::read_to_string(&path)
                .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
            let words: Vec<String> = text
                .lines()
                .filter(|w| !w.is_empty())
                .take(VOCAB)
                .map(str::to_string)
                .collect();
            assert_eq!(
                words.len(),
                VOCAB,
                "{}: fewer than {VOCAB} words",
                path.display()
            );
            words
        };
        Vocab {
            en: read("en.txt"),
            zh: read("zh.txt"),
            cdf: zipf_cdf(),
        }
    }

    fn rank(&self, rng: &mut Rng) -> usize {
        let u = (rng.next_u64() >> 11) as f64 / (1u64 << 53) as f64;
        self.cdf.partition_point(|&x| x < u).min(VOCAB - 1)
    }

    /// A message of about `chars` characters: English, Chinese, or (sometimes) both.
    pub fn text(&self, rng: &mut Rng, chars: usize) -> String {
        let lang = rng.below(10);
        let mut out = String::with_capacity(chars * 3);
        let mut count = 0;
        while count < chars {
            let zh = match lang {
                0..=5 => false,
                6..=8 => true,
                _ => rng.below(2) == 0,
            };
            let r = self.rank(rng);
            let w = if zh { &self.zh[r] } else { &self.en[r] };
            out.push_str(w);
            count += w.chars().count();
            if !zh {
                out.push(' ');
                count += 1;
            }
            if rng.below(12) == 0 {
                out.push_str(if zh { "。" } else { ". " });
                count += 1;
            }
        }
        out
    }
}

/// Writes `conversations` conversations of `per_conversation` messages each (one transaction per
/// 50,000 rows). Questions are 10–150 characters, replies 80–800. Returns the message count.
pub fn seed(
    conn: &mut Connection,
    conversations: usize,
    per_conversation: usize,
    seed: u64,
) -> usize {
    seed_with(conn, &Vocab::new(), conversations, per_conversation, seed)
}

/// `seed` with these words.
pub fn seed_with(
    conn: &mut Connection,
    vocab: &Vocab,
    conversations: usize,
    per_conversation: usize,
    seed: u64,
) -> usize {
    let mut rng = Rng::new(seed);
    let mut written = 0;
    let mut tx = conn.transaction().unwrap();
    let start = 1_700_000_000_000_i64;
    for c in 0..conversations {
        let at = start + (c as i64) * 60_000;
        tx.execute(
            "INSERT INTO conversations(title, model, created_at, updated_at) VALUES (?1, 'gpt-4o-mini', ?2, ?2)",
            params![format!("{} {}", vocab.text(&mut rng, 12).trim(), c), at],
        )
        .unwrap();
        let conv = tx.last_insert_rowid();
        let mut parent: Option<i64> = None;
        for i in 0..per_conversation {
            let (role, len, model) = if i % 2 == 0 {
                ("user", 10 + rng.below(140), None)
            } else {
                ("assistant", 80 + rng.below(720), Some("gpt-4o-mini"))
            };
            tx.execute(
                "INSERT INTO messages(conversation_id, parent_id, role, content, status, model, created_at)
                 VALUES (?1, ?2, ?3, ?4, 'done', ?5, ?6)",
                params![conv, parent, role, vocab.text(&mut rng, len), model, at + i as i64],
            )
            .unwrap();
            parent = Some(tx.last_insert_rowid());
            written += 1;
            if written % 50_000 == 0 {
                tx.commit().unwrap();
                tx = conn.transaction().unwrap();
            }
        }
    }
    tx.commit().unwrap();
    written
}
