// Measures and checks the bounded math pass of ui/js/markdown.js in Node (no webview): hostile math
// (`$a $a …`, huge formulas) renders with bounded output. Prints figures; asserts only sizes.
// Run: node --experimental-default-type=module tests/js/markdown_bounds.mjs [before]
import fs from 'node:fs';
import vm from 'node:vm';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
globalThis.window = globalThis;
globalThis.document = { documentElement: { lang: 'en' }, readyState: 'loading', addEventListener() {} };
globalThis.localStorage = { getItem: () => null, setItem() {} };
globalThis.navigator = { language: 'en' };
for (const f of ['markdown-it.min.js', 'katex.min.js', 'texmath.js', 'highlight.min.js']) {
  vm.runInThisContext(fs.readFileSync(path.join(root, 'ui/vendor/lib', f), 'utf8'), { filename: f });
}
const { markdownToHtml } = await import(path.join(root, 'ui/js/markdown.js'));

let failed = 0;
function check(name, text, maxHtml) {
  const t0 = performance.now();
  const html = markdownToHtml(text);
  const ms = performance.now() - t0;
  const ok = html.length <= maxHtml;
  if (!ok) failed++;
  console.log(`${ok ? 'ok  ' : 'FAIL'} ${name}: ${text.length} chars in → ${html.length} chars out, ${ms.toFixed(0)} ms`);
}
check('120 KB of "$a $a" on one line', '$a '.repeat(40000), 1_000_000);
check('120 KB of "$a $a" over short lines', '$a $b\n'.repeat(20000), 1_000_000);
check('30 KB of small formulas on one line', '$x^2$ '.repeat(5000), 1_000_000);
check('30 KB of small formulas, 50 a line', `${'$x^2$ '.repeat(50)}\n\n`.repeat(100), 1_000_000);
check('120 KB of "$a$ " over lines of 300', `${'$a$ '.repeat(75)}\n`.repeat(400), 1_000_000);
check('one 50 KB formula', `$$${'\\frac{a}{b}'.repeat(4000)}$$`, 200_000);
check('ordinary math still renders', 'Energy: $E=mc^2$', 100_000);
if (!markdownToHtml('Energy: $E=mc^2$').includes('katex')) { failed++; console.log('FAIL: no KaTeX'); }
process.exit(failed ? 1 : 0);
