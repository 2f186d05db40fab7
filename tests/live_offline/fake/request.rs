//! A request as the fake sees it: which service and operation it is for, its query-protocol
//! parameters, and who sent it (read from the SigV4 signature or the bearer key).

use aws_smithy_types::body::SdkBody;
use keyward_bedrock::ShortTermToken;

use super::{World, RUNNER_KEY};

/// One request as the fake saw it.
#[derive(Debug, Clone)]
pub struct Req {
    pub method: String,
    pub uri: String,
    /// `iam`, `sts` or `bedrock`.
    pub service: &'static str,
    /// The query-protocol action, or the Bedrock operation (`Converse`, `InvokeModel`, ...).
    pub op: String,
    pub headers: Vec<(String, String)>,
    pub body: String,
    pub form: Vec<(String, String)>,
    /// Who signed (SigV4) or whose key it is (bearer), as an ARN; `None` when unknown.
    pub caller_arn: Option<String>,
    /// Whether the runner's own credentials signed the request.
    pub by_runner: bool,
}

impl Req {
    pub fn param(&self, name: &str) -> Option<&str> {
        self.form
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// The `Tags` of a create request.
    pub fn tags(&self) -> Vec<(String, String)> {
        (1..)
            .map_while(|i| {
                let k = self.param(&format!("Tags.member.{i}.Key"))?;
                let v = self
                    .param(&format!("Tags.member.{i}.Value"))
                    .unwrap_or_default();
                Some((k.to_string(), v.to_string()))
            })
            .collect()
    }

    /// `prefix.member.1`, `prefix.member.2`, ... in order.
    pub fn members(&self, prefix: &str) -> Vec<String> {
        (1..)
            .map_while(|i| {
                self.param(&format!("{prefix}.member.{i}"))
                    .map(str::to_string)
            })
            .collect()
    }
}

pub fn pct_decode(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'+' => out.push(b' '),
            b'%' if i + 2 < b.len() => {
                let h = std::str::from_utf8(&b[i + 1..i + 3]).unwrap_or("zz");
                match u8::from_str_radix(h, 16) {
                    Ok(v) => {
                        out.push(v);
                        i += 2;
                    }
                    Err(_) => out.push(b'%'),
                }
            }
            c => out.push(c),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn parse_form(body: &str) -> Vec<(String, String)> {
    body.split('&')
        .filter(|p| !p.is_empty())
        .map(|p| {
            let (k, v) = p.split_once('=').unwrap_or((p, ""));
            (pct_decode(k), pct_decode(v))
        })
        .collect()
}

/// Reads a request the SDK sends: by host (iam., sts., bedrock-runtime.), then by the query
/// protocol's `Action=` (IAM, STS) or the REST path (Bedrock).
pub fn parse(req: &http::Request<SdkBody>, world: &World) -> Req {
    let host = req.uri().host().unwrap_or_default().to_string();
    let body = req
        .body()
        .bytes()
        .map(|b| String::from_utf8_lossy(b).into_owned())
        .unwrap_or_default();
    let headers: Vec<(String, String)> = req
        .headers()
        .iter()
        .map(|(k, v)| {
            (
                k.as_str().to_string(),
                v.to_str().unwrap_or_default().to_string(),
            )
        })
        .collect();
    let auth = req
        .headers()
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_string();
    let (service, form, op) = if host.starts_with("iam.") || host.starts_with("sts.") {
        let form = parse_form(&body);
        let op = form
            .iter()
            .find(|(k, _)| k == "Action")
            .map(|(_, v)| v.clone())
            .unwrap_or_default();
        (
            if host.starts_with("iam.") {
                "iam"
            } else {
                "sts"
            },
            form,
            op,
        )
    } else if host.starts_with("bedrock-runtime.") {
        let path = req.uri().path().to_string();
        let op = match path.rsplit('/').next().unwrap_or_default() {
            "converse" => "Converse",
            "converse-stream" => "ConverseStream",
            "invoke" => "InvokeModel",
            "invoke-with-response-stream" => "InvokeModelWithResponseStream",
            "count-tokens" => "CountTokens",
            other => other,
        };
        ("bedrock", Vec::new(), op.to_string())
    } else {
        ("unknown", Vec::new(), format!("unknown host {host}"))
    };
    let (caller_arn, by_runner) = if let Some(rest) = auth.strip_prefix("AWS4-HMAC-SHA256 ") {
        let akid = rest
            .split("Credential=")
            .nth(1)
            .and_then(|c| c.split('/').next())
            .unwrap_or_default();
        (world.principal_of_key(akid), akid == RUNNER_KEY)
    } else if let Some(token) = auth.strip_prefix("Bearer ") {
        let arn = if token.starts_with("bedrock-api-key-") {
            ShortTermToken::parse(token)
                .ok()
                .and_then(|t| world.principal_of_key(t.access_key_id()))
        } else {
            world
                .creds
                .iter()
                .find(|c| c.secret == token)
                .map(|c| world.user_arn(&c.user))
        };
        (arn, false)
    } else {
        (None, false)
    };
    Req {
        method: req.method().to_string(),
        uri: req.uri().to_string(),
        service,
        op,
        headers,
        body,
        form,
        caller_arn,
        by_runner,
    }
}
