//! The Batch API's plain requests: upload a file (`POST /files`, multipart), create and read a
//! batch (`POST /batches`, `GET /batches/{id}`), download a file's content. Same retries,
//! timeouts, key handling and redaction as every request; bodies limited to [`FILE_LIMIT`].

use super::*;

/// The largest file downloaded (a batch's output or error file).
pub const FILE_LIMIT: usize = 256 << 20;

impl Client {
    async fn plain(
        &self,
        ep: &Endpoint,
        method: reqwest::Method,
        path: &str,
        body: Option<(String, Vec<u8>)>,
        cancel: &CancellationToken,
    ) -> Result<Vec<u8>> {
        let key = ep.key.as_ref().map(ApiKey::expose);
        let build = || {
            let mut r = self.request(method.clone(), ep, path)?;
            if let Some((content_type, bytes)) = &body {
                r = r
                    .header(reqwest::header::CONTENT_TYPE, content_type.as_str())
                    .body(bytes.clone());
            }
            Ok(r)
        };
        let result = async {
            let resp = self
                .send_with_retries(ep, build, None, false, cancel, &mut |_| {})
                .await?;
            self.read_body(resp, FILE_LIMIT, cancel).await
        }
        .await;
        result.map_err(|e| e.map_text(|t| redact(t, key)))
    }

    /// `POST {base}/files` with `purpose=batch`: the uploaded file's id.
    pub async fn upload_batch_file(
        &self,
        ep: &Endpoint,
        name: &str,
        content: &[u8],
        cancel: &CancellationToken,
    ) -> Result<String> {
        let boundary = format!("parley-{:016x}", fastrand::u64(..));
        let mut body = Vec::with_capacity(content.len() + 512);
        body.extend_from_slice(
            format!(
                "--{boundary}\r\nContent-Disposition: form-data; name=\"purpose\"\r\n\r\nbatch\r\n\
                 --{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"{name}\"\r\n\
                 Content-Type: application/jsonl\r\n\r\n"
            )
            .as_bytes(),
        );
        body.extend_from_slice(content);
        body.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
        let content_type = format!("multipart/form-data; boundary={boundary}");
        let bytes = self
            .plain(
                ep,
                reqwest::Method::POST,
                "files",
                Some((content_type, body)),
                cancel,
            )
            .await?;
        let v: serde_json::Value = parse(&bytes, "file")?;
        v["id"]
            .as_str()
            .map(str::to_string)
            .ok_or_else(|| bad("the server's file object has no id"))
    }

    /// `POST {base}/batches`: the batch object.
    pub async fn create_batch(
        &self,
        ep: &Endpoint,
        request: &serde_json::Value,
        cancel: &CancellationToken,
    ) -> Result<serde_json::Value> {
        let body = serde_json::to_vec(request).map_err(|e| bad(e.to_string()))?;
        let bytes = self
            .plain(
                ep,
                reqwest::Method::POST,
                "batches",
                Some(("application/json".into(), body)),
                cancel,
            )
            .await?;
        parse(&bytes, "batch")
    }

    /// `GET {base}/batches/{id}`: the batch object.
    pub async fn get_batch(
        &self,
        ep: &Endpoint,
        id: &str,
        cancel: &CancellationToken,
    ) -> Result<serde_json::Value> {
        let path = format!("batches/{}", check_id(id)?);
        let bytes = self
            .plain(ep, reqwest::Method::GET, &path, None, cancel)
            .await?;
        parse(&bytes, "batch")
    }

    /// `GET {base}/files/{id}/content`.
    pub async fn file_content(
        &self,
        ep: &Endpoint,
        id: &str,
        cancel: &CancellationToken,
    ) -> Result<Vec<u8>> {
        let path = format!("files/{}/content", check_id(id)?);
        self.plain(ep, reqwest::Method::GET, &path, None, cancel)
            .await
    }
}

fn bad(message: impl Into<String>) -> Error {
    Error::BadRequest {
        status: 200,
        message: message.into(),
    }
}

fn parse(bytes: &[u8], what: &str) -> Result<serde_json::Value> {
    serde_json::from_slice(bytes).map_err(|e| {
        bad(format!(
            "the server's {what} object was not understood: {e}"
        ))
    })
}

/// Ids from a server go into a URL path: letters, digits, `-` and `_` only.
fn check_id(id: &str) -> Result<&str> {
    let ok = !id.is_empty()
        && id.len() <= 200
        && id
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
    if ok {
        Ok(id)
    } else {
        Err(bad(format!(
            "the server gave an id Parley does not use in a URL: {id:?}"
        )))
    }
}
