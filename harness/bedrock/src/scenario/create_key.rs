//! CreateServiceSpecificCredential, by API or by the Bedrock console's long-term-key flow.

use std::str::FromStr;

use keyward_iam::{evaluate, Arn, ContextValue, Decision, DecisionKind, PolicySet, Request};

use super::{authorize, denial_changes, principal_context, Rejection, ScenarioResult};
use crate::assumptions::ids;
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
        user_arn(&self.caller, &self.user)
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

    /// AWS's access-denied message for one of the key creation's requests.
    pub fn denial_message(
        &self,
        decision: &Decision,
        request: &Request,
        set: &PolicySet,
    ) -> Option<String> {
        // IAM names a user resource as `user NAME` (assumption B-IAM-RESOURCE-FORM).
        let resource = format!("user {}", self.user);
        decision.message_with_resource(request, set, &resource)
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
        let mut r = self.run_in_order(set);
        r.assumptions = self.assumptions(set, &r);
        r
    }

    fn run_in_order(&self, set: &PolicySet) -> ScenarioResult {
        let age = match self.checked_age() {
            Ok(age) => age,
            Err(outcome) => {
                let asked = self.age_days.unwrap_or_default();
                return ScenarioResult::rejected(outcome, Rejection::AgeOutOfRange { asked });
            }
        };
        let mut steps = Vec::new();
        let mut side_effects = Vec::new();
        for PlannedStep { request, effect } in self.steps() {
            let denied = authorize(set, vec![request], &mut steps);
            if let Some(i) = denied {
                let s = &steps[i];
                let message = self.denial_message(&s.decision, &s.request, set);
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
                    assumptions: Vec::new(),
                    rejection: None,
                    routes: Vec::new(),
                };
            }
            side_effects.extend(effect);
        }
        let decision = steps.last().map(|s| s.decision.clone());
        let fail = |code, msg: String, side_effects, why| ScenarioResult {
            decision: decision.clone(),
            steps: steps.clone(),
            message: None,
            outcome: Outcome::iam_error(code, &msg, side_effects),
            assumptions: Vec::new(),
            rejection: Some(why),
            routes: Vec::new(),
        };
        if self.flow == Flow::Api && !self.user_exists {
            return fail(
                IamErrorCode::NoSuchEntity,
                format!("The user with name {} cannot be found.", self.user),
                side_effects,
                Rejection::NoSuchUser {
                    user: self.user.clone(),
                },
            );
        }
        if !self.service.is_supported() {
            // The service model's description of the error (assumption B-NOT-SUPPORTED-MESSAGE).
            return fail(
                IamErrorCode::NotSupportedService,
                "The specified service does not support service-specific credentials.".into(),
                side_effects,
                Rejection::UnsupportedService {
                    service: self.service.clone(),
                },
            );
        }
        if self.at_limit() {
            // Modelled on IAM's access-key quota text (assumption B-LIMIT-MESSAGE).
            return fail(
                IamErrorCode::LimitExceeded,
                format!(
                    "Cannot exceed quota for ServiceSpecificCredentialsPerUser: {}",
                    CredentialStore::LIMIT_PER_USER_AND_SERVICE
                ),
                side_effects,
                Rejection::LimitExceeded {
                    user: self.user.clone(),
                    service: self.service.clone(),
                    held: self.existing_keys,
                    limit: CredentialStore::LIMIT_PER_USER_AND_SERVICE,
                },
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
            assumptions: Vec::new(),
            rejection: None,
            routes: Vec::new(),
        }
    }

    fn at_limit(&self) -> bool {
        usize::try_from(self.existing_keys).unwrap_or(usize::MAX)
            >= CredentialStore::LIMIT_PER_USER_AND_SERVICE
    }

    /// The Bedrock-key assumptions the outcome `r` rests on, each checked by authorizing again
    /// under the assumption's other reading where it has one.
    fn assumptions(&self, set: &PolicySet, r: &ScenarioResult) -> Vec<&'static str> {
        let mut out = Vec::new();
        let code = r.outcome.code;
        let requests = self.requests();
        let authorization_denies = || {
            requests
                .iter()
                .any(|q| evaluate(set, q).kind != DecisionKind::Allow)
        };
        // The errors found after authorization, in the order they are checked.
        let later_errors = [
            self.flow == Flow::Api && !self.user_exists,
            !self.service.is_supported(),
            self.at_limit(),
        ];
        let later = later_errors.iter().filter(|e| **e).count();
        match code {
            Some(IamErrorCode::ValidationError) => {
                out.push(ids::AGE_VALIDATION_MESSAGE);
                if later > 0 || authorization_denies() {
                    out.push(ids::CREATE_ORDER);
                }
            }
            Some(IamErrorCode::AccessDenied) => {
                out.push(ids::IAM_RESOURCE_FORM);
                if later > 0 {
                    out.push(ids::CREATE_ORDER);
                }
            }
            Some(IamErrorCode::NotSupportedService) => out.push(ids::NOT_SUPPORTED_MESSAGE),
            Some(IamErrorCode::LimitExceeded) => out.push(ids::LIMIT_MESSAGE),
            _ => {}
        }
        if code != Some(IamErrorCode::AccessDenied)
            && code != Some(IamErrorCode::ValidationError)
            && later > 1
        {
            out.push(ids::CREATE_ORDER);
        }
        if self.flow == Flow::Console {
            out.push(ids::CONSOLE_STEPS);
        }
        if !r.steps.is_empty() {
            let denied = r
                .steps
                .iter()
                .position(|s| s.decision.kind != DecisionKind::Allow);
            let changed = |edit: &dyn Fn(&mut Request)| {
                let other = requests
                    .iter()
                    .map(|q| {
                        let mut q = q.clone();
                        edit(&mut q);
                        q
                    })
                    .collect();
                denial_changes(set, &r.steps, denied, other)
            };
            // The other reading of B-IAM-REGION: IAM requests carry no aws:RequestedRegion.
            if changed(&|q| {
                q.context.remove("aws:RequestedRegion");
            }) {
                out.push(ids::IAM_REGION);
            }
            // The other reading of B-AGEDAYS-ABSENT: a never-expiring key's request carries the
            // age key, with the largest age IAM takes.
            if self.age_days.is_none()
                && changed(&|q| {
                    if q.action() == "iam:CreateServiceSpecificCredential" {
                        q.context.insert(
                            "iam:ServiceSpecificCredentialAgeDays",
                            ContextValue::single(AgeDays::MAX.get().to_string()),
                        );
                    }
                })
            {
                out.push(ids::AGEDAYS_ABSENT);
            }
        }
        out
    }
}

/// The ARN of IAM user `user` in the account of `principal` (123456789012 when the principal
/// names none).
pub(crate) fn user_arn(principal: &str, user: &UserName) -> String {
    let principal = principal.parse::<Arn>().ok();
    let account = principal
        .as_ref()
        .and_then(Arn::account_id)
        .unwrap_or("123456789012");
    format!("arn:aws:iam::{account}:user/{user}")
}

/// One request of a key creation and what it does once allowed.
struct PlannedStep {
    request: Request,
    effect: Option<SideEffect>,
}
