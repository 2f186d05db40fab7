//! CreateServiceSpecificCredential, by API or by the Bedrock console's long-term-key flow.

use std::str::FromStr;

use keyward_iam::{Arn, ContextValue, PolicySet, Request};

use super::{authorize, principal_context, ScenarioResult};
use crate::credential::{AgeDays, CredentialStore, ServiceName, UserName};
use crate::outcome::{IamErrorCode, Outcome};
use crate::{SideEffect, UnknownName};

/// The managed policy the console attaches to the users it creates (docs/aws-behaviour.md §1.6).
pub const LIMITED_ACCESS_POLICY: &str = "arn:aws:iam::aws:policy/AmazonBedrockLimitedAccess";

/// How the key is created.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Flow {
    /// `CreateServiceSpecificCredential` called directly, for an existing user.
    Api,
    /// The Bedrock console's long-term-key flow: create a user, attach
    /// [`LIMITED_ACCESS_POLICY`], then create the key.
    Console,
}

impl Flow {
    /// `api` or `console`, as cases write it.
    pub fn name(self) -> &'static str {
        match self {
            Flow::Api => "api",
            Flow::Console => "console",
        }
    }
}

/// Reads `api` or `console`.
impl FromStr for Flow {
    type Err = UnknownName;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        [Flow::Api, Flow::Console]
            .into_iter()
            .find(|f| f.name() == s)
            .ok_or_else(|| UnknownName::new("a key-creation flow", "api or console", s))
    }
}

/// `CreateServiceSpecificCredential`, by API or by the console.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CreateKeyScenario {
    /// The ARN of the principal calling IAM.
    pub caller: String,
    /// The user the key is for.
    pub user: UserName,
    /// The service the credential is for.
    pub service: ServiceName,
    /// CredentialAgeDays as asked; `None` means never expires. Kept unvalidated: validation is
    /// part of what the scenario predicts.
    pub age_days: Option<i64>,
    /// How the key is created.
    pub flow: Flow,
    /// Credentials the user already holds for the service.
    pub existing_keys: u32,
    /// Whether the user exists (the API flow; the console flow creates it).
    pub user_exists: bool,
}

impl CreateKeyScenario {
    fn user_arn(&self) -> String {
        let caller = self.caller.parse::<Arn>().ok();
        let account = caller
            .as_ref()
            .and_then(Arn::account_id)
            .unwrap_or("123456789012");
        format!("arn:aws:iam::{account}:user/{}", self.user)
    }

    fn request(&self, action: &str) -> Request {
        let mut req = Request::new(&self.caller, action, self.user_arn());
        for (k, v) in principal_context(&self.caller) {
            req.context.insert(k, v);
        }
        // IAM is a global service whose requests AWS attributes to us-east-1
        // (assumption B-IAM-REGION).
        req.context
            .insert("aws:RequestedRegion", ContextValue::single("us-east-1"));
        req.context
            .insert("aws:SecureTransport", ContextValue::single("true"));
        req
    }

    /// The CreateServiceSpecificCredential request: the service name always, the age only when
    /// one is asked for (assumption B-AGEDAYS-ABSENT: a never-expiring key has no age key).
    pub fn create_request(&self) -> Request {
        let mut req = self.request("iam:CreateServiceSpecificCredential");
        req.context.insert(
            "iam:ServiceSpecificCredentialServiceName",
            ContextValue::single(self.service.as_str()),
        );
        if let Some(d) = self.age_days {
            req.context.insert(
                "iam:ServiceSpecificCredentialAgeDays",
                ContextValue::single(d.to_string()),
            );
        }
        req
    }

    /// Every request in order: the console's CreateUser and AttachUserPolicy first
    /// (assumption B-CONSOLE-STEPS), then the key.
    pub fn requests(&self) -> Vec<Request> {
        self.steps().into_iter().map(|s| s.request).collect()
    }

    /// The requests, each with what it does once allowed; the key's own effect is decided after
    /// authorization, so it has none here.
    fn steps(&self) -> Vec<PlannedStep> {
        let mut out = Vec::new();
        if self.flow == Flow::Console {
            out.push(PlannedStep {
                request: self.request("iam:CreateUser"),
                effect: Some(SideEffect::UserCreated {
                    user: self.user.clone(),
                }),
            });
            let mut attach = self.request("iam:AttachUserPolicy");
            attach
                .context
                .insert("iam:PolicyARN", ContextValue::single(LIMITED_ACCESS_POLICY));
            out.push(PlannedStep {
                request: attach,
                effect: Some(SideEffect::PolicyAttached {
                    user: self.user.clone(),
                    policy_arn: LIMITED_ACCESS_POLICY.to_owned(),
                }),
            });
        }
        out.push(PlannedStep {
            request: self.create_request(),
            effect: None,
        });
        out
    }

    /// The asked age as an [`AgeDays`], or IAM's answer to an age outside its range.
    fn checked_age(&self) -> Result<Option<AgeDays>, Outcome> {
        let Some(d) = self.age_days else {
            return Ok(None);
        };
        if let Some(age) = u64::try_from(d).ok().and_then(|d| AgeDays::new(d).ok()) {
            return Ok(Some(age));
        }
        // AWS's generic constraint message (assumption B-AGE-VALIDATION-MESSAGE).
        let bound = if d < i64::from(AgeDays::MIN.get()) {
            format!("greater than or equal to {}", AgeDays::MIN.get())
        } else {
            format!("less than or equal to {}", AgeDays::MAX.get())
        };
        let msg = format!("1 validation error detected: Value '{d}' at 'credentialAgeDays' failed to satisfy constraint: Member must have value {bound}");
        Err(Outcome::iam_error(
            IamErrorCode::ValidationError,
            &msg,
            Vec::new(),
        ))
    }

    /// Order: parameter constraints, then authorization, then the user, the service and the limit
    /// (assumption B-CREATE-ORDER).
    pub fn run(&self, set: &PolicySet) -> ScenarioResult {
        let age = match self.checked_age() {
            Ok(age) => age,
            Err(outcome) => return ScenarioResult::rejected(outcome),
        };
        let mut steps = Vec::new();
        let mut side_effects = Vec::new();
        for PlannedStep { request, effect } in self.steps() {
            let denied = authorize(set, vec![request], &mut steps);
            if let Some(i) = denied {
                let s = &steps[i];
                // IAM names a user resource as `user NAME` (assumption B-IAM-RESOURCE-FORM).
                let resource = format!("user {}", self.user);
                let message = s.decision.message_with_resource(&s.request, set, &resource);
                let outcome = Outcome::iam_error(
                    IamErrorCode::AccessDenied,
                    message.as_deref().unwrap_or_default(),
                    side_effects,
                );
                return ScenarioResult {
                    decision: Some(s.decision.clone()),
                    steps,
                    message,
                    outcome,
                };
            }
            side_effects.extend(effect);
        }
        let decision = steps.last().map(|s| s.decision.clone());
        let fail = |code, msg: String, side_effects| ScenarioResult {
            decision: decision.clone(),
            steps: steps.clone(),
            message: None,
            outcome: Outcome::iam_error(code, &msg, side_effects),
        };
        if self.flow == Flow::Api && !self.user_exists {
            return fail(
                IamErrorCode::NoSuchEntity,
                format!("The user with name {} cannot be found.", self.user),
                side_effects,
            );
        }
        if !self.service.is_supported() {
            // The service model's description of the error (assumption B-NOT-SUPPORTED-MESSAGE).
            return fail(
                IamErrorCode::NotSupportedService,
                "The specified service does not support service-specific credentials.".into(),
                side_effects,
            );
        }
        let limit = CredentialStore::LIMIT_PER_USER_AND_SERVICE;
        if usize::try_from(self.existing_keys).unwrap_or(usize::MAX) >= limit {
            // Modelled on IAM's access-key quota text (assumption B-LIMIT-MESSAGE).
            return fail(
                IamErrorCode::LimitExceeded,
                format!("Cannot exceed quota for ServiceSpecificCredentialsPerUser: {limit}"),
                side_effects,
            );
        }
        side_effects.push(SideEffect::CredentialCreated {
            user: self.user.clone(),
            service: self.service.clone(),
            age: age.map(|a| i64::from(a.get())),
        });
        ScenarioResult {
            decision,
            steps,
            message: None,
            outcome: Outcome::success(side_effects),
        }
    }
}

/// One request of a key creation and what it does once allowed.
struct PlannedStep {
    request: Request,
    effect: Option<SideEffect>,
}
