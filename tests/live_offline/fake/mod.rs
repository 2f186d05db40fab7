//! The fake AWS: an HTTP client for the SDK (aws-smithy-http-client's `infallible_client_fn`)
//! that reads each request ([`request`]), hands it to the service it is for ([`iam`], [`sts`],
//! [`bedrock`]), keeps the state a run creates ([`world`]: users, roles, policies, access keys,
//! service-specific credentials, sessions), records every request, and answers in AWS's real
//! shapes: IAM and STS XML ([`response`]; errors as `ErrorResponse` with the right status) and
//! Bedrock JSON (errors with `x-amzn-ErrorType`). Tests add hooks that answer particular requests
//! differently (denials, throttling, 5xx, eventual consistency); [`deny`] is one that words
//! explicit denies from the policies a principal carries, as AWS does. Request ids in the fake's
//! answers are random-looking, so redaction is exercised.

mod bedrock;
mod deny;
mod iam;
mod request;
mod response;
mod sts;
mod world;

use std::sync::{Arc, Mutex};

use aws_config::SdkConfig;
use aws_smithy_http_client::test_util::infallible_client_fn;
use aws_smithy_types::body::SdkBody;

pub use bedrock::{bedrock_error, AUTH_FAILED, INVALID_MODEL_ID, NO_MODEL_ACCESS};
pub use deny::{explicit_deny, DenyTable};
pub use iam::{
    iam_error, is_aws_managed, sim_pairs, simulate_answer, SimResult, ATTACHED_POLICIES,
};
pub use request::Req;
pub use response::{query_error, query_ok, Resp};
pub use sts::{Runner, STS_NS};
pub use world::{mix, Lag, Principal, ServiceCred, World};

/// The runner's test credentials: not shaped like a real key.
pub const RUNNER_KEY: &str = "AKIDTEST";
pub const RUNNER_ROLE: &str = "KeywardRunner";

type Hook = Box<dyn FnMut(&Req, &mut World) -> Option<Resp> + Send>;

struct Inner {
    world: World,
    log: Vec<Req>,
    hooks: Vec<Hook>,
}

/// A stateful fake of IAM, STS and bedrock-runtime.
#[derive(Clone)]
pub struct Fake(Arc<Mutex<Inner>>);

impl Fake {
    /// A fake whose STS says the runner belongs to `account`.
    pub fn new(account: &str) -> Fake {
        Fake(Arc::new(Mutex::new(Inner {
            world: World {
                account: account.into(),
                ..World::default()
            },
            log: Vec::new(),
            hooks: Vec::new(),
        })))
    }

    /// Answers requests the hook chooses (the first hook that answers wins; the fake's own
    /// behaviour, and its state changes, apply only when no hook answers).
    pub fn hook(&self, h: impl FnMut(&Req, &mut World) -> Option<Resp> + Send + 'static) {
        self.lock().hooks.push(Box::new(h));
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        self.0.lock().unwrap_or_else(|p| p.into_inner())
    }

    pub fn requests(&self) -> Vec<Req> {
        self.lock().log.clone()
    }

    pub fn ops(&self) -> Vec<String> {
        self.lock().log.iter().map(|r| r.op.clone()).collect()
    }

    pub fn count(&self, op: &str) -> usize {
        self.lock().log.iter().filter(|r| r.op == op).count()
    }

    pub fn of(&self, op: &str) -> Vec<Req> {
        self.lock()
            .log
            .iter()
            .filter(|r| r.op == op)
            .cloned()
            .collect()
    }

    pub fn world<T>(&self, f: impl FnOnce(&World) -> T) -> T {
        f(&self.lock().world)
    }

    pub fn world_mut<T>(&self, f: impl FnOnce(&mut World) -> T) -> T {
        f(&mut self.lock().world)
    }

    pub fn sdk(&self) -> SdkConfig {
        let me = self.clone();
        super::sdk_config(infallible_client_fn(move |req| me.handle(req)))
    }

    pub fn handle(&self, req: http::Request<SdkBody>) -> http::Response<SdkBody> {
        let mut inner = self.lock();
        let r = request::parse(&req, &inner.world);
        inner.log.push(r.clone());
        let Inner { world, hooks, .. } = &mut *inner;
        let resp = hooks
            .iter_mut()
            .find_map(|h| h(&r, &mut *world))
            .unwrap_or_else(|| {
                let resp = dispatch(&r, world);
                world.note_change(&r, resp.status);
                resp
            });
        let mut b = http::Response::builder().status(resp.status);
        for (k, v) in &resp.headers {
            b = b.header(k.as_str(), v.as_str());
        }
        b.body(SdkBody::from(resp.body)).expect("a valid response")
    }
}

/// The fake's own answer (no hook answered): the service the request is for answers it.
fn dispatch(r: &Req, w: &mut World) -> Resp {
    match r.service {
        "iam" => iam::answer(r, w),
        "sts" => sts::answer(r, w),
        "bedrock" => bedrock::answer(r, w),
        _ => Resp {
            status: 599,
            headers: Vec::new(),
            body: format!("the fake does not know {}", r.uri),
        },
    }
}
