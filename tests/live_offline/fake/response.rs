//! An HTTP answer, and the AWS query protocol's XML that IAM and STS both answer in.

/// An HTTP answer.
#[derive(Debug, Clone)]
pub struct Resp {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: String,
}

pub fn xml_escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

fn xml(status: u16, request_id: &str, body: String) -> Resp {
    Resp {
        status,
        headers: vec![
            ("content-type".into(), "text/xml".into()),
            ("x-amzn-requestid".into(), request_id.into()),
        ],
        body,
    }
}

/// A query-protocol success: `<OpResponse><OpResult>inner</OpResult><ResponseMetadata>...`.
pub fn query_ok(ns: &str, op: &str, inner: Option<&str>, request_id: &str) -> Resp {
    let result = inner
        .map(|i| format!("  <{op}Result>\n{i}\n  </{op}Result>\n"))
        .unwrap_or_default();
    xml(
        200,
        request_id,
        format!(
            "<{op}Response xmlns=\"{ns}\">\n{result}  <ResponseMetadata>\n    <RequestId>{request_id}</RequestId>\n  </ResponseMetadata>\n</{op}Response>\n"
        ),
    )
}

/// A query-protocol error, laid out as IAM lays it out.
pub fn query_error(ns: &str, status: u16, code: &str, message: &str, request_id: &str) -> Resp {
    let kind = if status >= 500 { "Receiver" } else { "Sender" };
    xml(
        status,
        request_id,
        format!(
            "<ErrorResponse xmlns=\"{ns}\">\n  <Error>\n    <Type>{kind}</Type>\n    <Code>{code}</Code>\n    <Message>{}</Message>\n  </Error>\n  <RequestId>{request_id}</RequestId>\n</ErrorResponse>\n",
            xml_escape(message)
        ),
    )
}
