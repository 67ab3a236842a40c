//! Outbound notification channels: SMTP e-mail (lettre over rustls) and webhooks (a JSON
//! POST: generic, 企业微信 group robot, 钉钉 robot with its HMAC-SHA256 signature).
//!
//! Building a message is pure ([`webhook_body`], [`dingtalk_sign`]); [`send_email`] and
//! [`post_webhook`] do the network I/O and report a failure as a [`NotifyError`] whose text
//! the outbox keeps for the administrator.

use base64::Engine as _;
use healthplan_store::{SmtpSecurity, SmtpSettings, WebhookFormat};
use hmac::{KeyInit, Mac};
use serde_json::{json, Value};
use std::time::Duration;
use thiserror::Error;

/// The webhook client ([`http_client`]): HTTP/1.1, `https://` over rustls (ring, Mozilla's
/// roots) or plain `http://`.
pub type HttpClient = hyper_util::client::legacy::Client<
    hyper_rustls::HttpsConnector<hyper_util::client::legacy::connect::HttpConnector>,
    http_body_util::Full<bytes::Bytes>,
>;

#[derive(Debug, Error)]
pub enum NotifyError {
    /// The settings cannot be used (a bad address, no SMTP server configured).
    #[error("{0}")]
    Config(String),
    #[error("SMTP: {0}")]
    Smtp(String),
    #[error("webhook: {0}")]
    Http(String),
}

/// One message as every channel says it.
#[derive(Debug, Clone, PartialEq)]
pub struct Message<'a> {
    /// `returned`, `deadline`, `alert`, `submitted`.
    pub kind: &'a str,
    pub subject: &'a str,
    pub body: &'a str,
    /// An absolute URL when the site's address is known, else a path.
    pub link: &'a str,
}

impl Message<'_> {
    /// Subject, body and link as one text (robots show plain text).
    pub fn text(&self) -> String {
        format!("【{}】\n{}\n{}", self.subject, self.body, self.link)
    }
}

/// How long one send may take before it counts as failed.
pub const TIMEOUT: Duration = Duration::from_secs(20);

/// The JSON body a webhook of this format receives.
pub fn webhook_body(format: WebhookFormat, m: &Message<'_>) -> Value {
    match format {
        WebhookFormat::Generic => json!({
            "kind": m.kind,
            "title": m.subject,
            "body": m.body,
            "link": m.link,
            "source": "healthplan",
        }),
        // Both robots take the same text message.
        WebhookFormat::Wecom | WebhookFormat::Dingtalk => json!({
            "msgtype": "text",
            "text": { "content": m.text() },
        }),
    }
}

/// DingTalk's signature of a robot call: Base64(HMAC-SHA256(secret, "{timestamp}\n{secret}")),
/// URL-encoded, for the `sign` parameter beside `timestamp` (milliseconds since the epoch).
pub fn dingtalk_sign(secret: &str, timestamp_ms: i64) -> String {
    let mut mac = hmac::Hmac::<sha2::Sha256>::new_from_slice(secret.as_bytes())
        .expect("HMAC takes a key of any length");
    mac.update(format!("{timestamp_ms}\n{secret}").as_bytes());
    let sig = base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes());
    url_encode(&sig)
}

fn url_encode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// The URL a DingTalk robot is called on: with `timestamp` and `sign` when signed.
pub fn dingtalk_url(url: &str, secret: Option<&str>, timestamp_ms: i64) -> String {
    match secret {
        None => url.to_string(),
        Some(s) => {
            let sep = if url.contains('?') { '&' } else { '?' };
            format!(
                "{url}{sep}timestamp={timestamp_ms}&sign={}",
                dingtalk_sign(s, timestamp_ms)
            )
        }
    }
}

/// The ring provider. ring, not aws-lc-rs: no cmake/C toolchain build; rustls 0.23.48
/// deprecates it only for lacking post-quantum key exchange, which SMTP and robot APIs do
/// not need.
#[allow(deprecated)]
fn provider() -> rustls::crypto::CryptoProvider {
    rustls::crypto::ring::default_provider()
}

/// Installs ring as the process's rustls provider for lettre, once (a second install is
/// refused harmlessly).
fn install_provider() {
    let _ = provider().install_default();
}

/// A client for webhooks.
pub fn http_client() -> Result<HttpClient, NotifyError> {
    let https = hyper_rustls::HttpsConnectorBuilder::new()
        .with_provider_and_webpki_roots(provider())
        .map_err(|e| NotifyError::Http(e.to_string()))?
        .https_or_http()
        .enable_http1()
        .build();
    Ok(
        hyper_util::client::legacy::Client::builder(hyper_util::rt::TokioExecutor::new())
            .build(https),
    )
}

/// Posts one message to a webhook. A non-2xx answer, or a robot's `errcode` other than 0,
/// is a failure. Errors never repeat the URL (a robot's URL holds its access token).
pub async fn post_webhook(
    client: &HttpClient,
    url: &str,
    format: WebhookFormat,
    secret: Option<&str>,
    m: &Message<'_>,
    timestamp_ms: i64,
) -> Result<(), NotifyError> {
    use http_body_util::BodyExt;
    let target = match format {
        WebhookFormat::Dingtalk => dingtalk_url(url, secret, timestamp_ms),
        _ => url.to_string(),
    };
    let body = serde_json::to_vec(&webhook_body(format, m))
        .map_err(|e| NotifyError::Http(e.to_string()))?;
    let req = http::Request::post(&target)
        .header(
            http::header::CONTENT_TYPE,
            "application/json; charset=utf-8",
        )
        .header(http::header::USER_AGENT, "healthplan-notify")
        .body(http_body_util::Full::new(bytes::Bytes::from(body)))
        .map_err(|_| NotifyError::Http("the webhook URL is not valid".into()))?;
    let exchange = async {
        let res = client
            .request(req)
            .await
            .map_err(|e| NotifyError::Http(format!("request failed: {}", root_cause(&e))))?;
        let status = res.status();
        let bytes = res
            .into_body()
            .collect()
            .await
            .map_err(|e| NotifyError::Http(format!("reading the answer: {e}")))?
            .to_bytes();
        Ok::<_, NotifyError>((status, String::from_utf8_lossy(&bytes).into_owned()))
    };
    let (status, text) = tokio::time::timeout(TIMEOUT, exchange)
        .await
        .map_err(|_| NotifyError::Http("timed out".into()))??;
    if !status.is_success() {
        return Err(NotifyError::Http(format!(
            "HTTP {status}: {}",
            text.chars().take(200).collect::<String>()
        )));
    }
    if format != WebhookFormat::Generic {
        // The robots answer 200 with {"errcode": n, "errmsg": …}.
        if let Ok(v) = serde_json::from_str::<Value>(&text) {
            let code = v.get("errcode").and_then(Value::as_i64).unwrap_or(0);
            if code != 0 {
                let msg = v.get("errmsg").and_then(Value::as_str).unwrap_or("");
                return Err(NotifyError::Http(format!("errcode {code}: {msg}")));
            }
        }
    }
    Ok(())
}

/// The innermost cause of an error (hyper's outer text names no reason).
fn root_cause(e: &(dyn std::error::Error + 'static)) -> String {
    let mut cause = e.to_string();
    let mut src = e.source();
    while let Some(s) = src {
        cause = s.to_string();
        src = s.source();
    }
    cause
}

/// Checks an address as the sender or recipient of a message (`name <a@b>` or `a@b`).
pub fn check_mailbox(s: &str) -> Result<(), NotifyError> {
    s.parse::<lettre::message::Mailbox>()
        .map(|_| ())
        .map_err(|e| NotifyError::Config(format!("{s:?}: {e}")))
}

/// Sends one plain-text e-mail through the configured SMTP server.
pub async fn send_email(smtp: &SmtpSettings, to: &str, m: &Message<'_>) -> Result<(), NotifyError> {
    use lettre::message::header::ContentType;
    use lettre::transport::smtp::authentication::Credentials;
    use lettre::{AsyncSmtpTransport, AsyncTransport, Tokio1Executor};

    install_provider();
    let from = smtp
        .from
        .parse()
        .map_err(|e| NotifyError::Config(format!("from {:?}: {e}", smtp.from)))?;
    let to = to
        .parse()
        .map_err(|e| NotifyError::Config(format!("to {to:?}: {e}")))?;
    let email = lettre::Message::builder()
        .from(from)
        .to(to)
        .subject(m.subject)
        .header(ContentType::TEXT_PLAIN)
        .body(format!("{}\n\n{}\n", m.body, m.link))
        .map_err(|e| NotifyError::Config(e.to_string()))?;
    let builder = match smtp.security {
        SmtpSecurity::Starttls => AsyncSmtpTransport::<Tokio1Executor>::starttls_relay(&smtp.host)
            .map_err(|e| NotifyError::Smtp(e.to_string()))?,
        SmtpSecurity::Tls => AsyncSmtpTransport::<Tokio1Executor>::relay(&smtp.host)
            .map_err(|e| NotifyError::Smtp(e.to_string()))?,
        SmtpSecurity::None => AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(&smtp.host),
    };
    let mut builder = builder.port(smtp.port).timeout(Some(TIMEOUT));
    if let Some(user) = smtp.username.as_deref().filter(|u| !u.is_empty()) {
        builder = builder.credentials(Credentials::new(
            user.to_string(),
            smtp.password.clone().unwrap_or_default(),
        ));
    }
    builder
        .build()
        .send(email)
        .await
        .map_err(|e| NotifyError::Smtp(e.to_string()))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn msg() -> Message<'static> {
        Message {
            kind: "returned",
            subject: "数据被退回",
            body: "请核实",
            link: "https://x/rounds/1",
        }
    }

    #[test]
    fn robots_get_a_text_message() {
        for f in [WebhookFormat::Wecom, WebhookFormat::Dingtalk] {
            let v = webhook_body(f, &msg());
            assert_eq!(v["msgtype"], "text");
            let content = v["text"]["content"].as_str().unwrap();
            assert!(content.contains("数据被退回") && content.contains("请核实"));
            assert!(content.contains("https://x/rounds/1"));
        }
        let g = webhook_body(WebhookFormat::Generic, &msg());
        assert_eq!(g["kind"], "returned");
        assert_eq!(g["title"], "数据被退回");
    }

    /// The signature as Python's `hmac`/`base64`/`urllib.parse.quote_plus` compute it for
    /// DingTalk's scheme (an independent implementation).
    #[test]
    fn dingtalk_signature_is_the_documented_hmac() {
        let secret = "SECtest";
        let ts = 1_700_000_000_000;
        assert_eq!(
            dingtalk_sign(secret, ts),
            "aZLLrriXgn05YbwaGR7knYsLeJADjr9NwLaNNKpxh4g%3D"
        );
        let url = dingtalk_url(
            "https://oapi.dingtalk.com/robot/send?access_token=t",
            Some(secret),
            ts,
        );
        assert!(url.starts_with(
            "https://oapi.dingtalk.com/robot/send?access_token=t&timestamp=1700000000000&sign="
        ));
        assert_eq!(dingtalk_url("https://h/x", None, ts), "https://h/x");
    }

    #[test]
    fn url_encoding_keeps_unreserved_characters() {
        assert_eq!(url_encode("a+b/c=d"), "a%2Bb%2Fc%3Dd");
        assert_eq!(url_encode("A-z_0.~"), "A-z_0.~");
    }
}
