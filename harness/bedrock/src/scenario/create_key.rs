//! CreateServiceSpecificCredential, by API or by the Bedrock console's long-term-key flow.

use keyward_iam::{Arn, ContextValue, PolicySet, Request};

use super::{authorize, principal_context, ScenarioResult};
use crate::outcome::Outcome;

/// The managed policy the console attaches to the users it creates (aws-facts §1.6).
pub const LIMITED_ACCESS_POLICY: &str = "arn:aws:iam::aws:policy/AmazonBedrockLimitedAccess";

/// Services that take service-specific credentials (aws-facts §1.5).
pub const SUPPORTED_SERVICES: [&str; 6] = [
    "codecommit.amazonaws.com",
    "cassandra.amazonaws.com",
    "bedrock.amazonaws.com",
    "logs.amazonaws.com",
    "cloudwatch.amazonaws.com",
    "aws-external-anthropic.amazonaws.com",
];

/// CredentialAgeDays' documented range.
pub const AGE_DAYS: std::ops::RangeInclusive<i64> = 1..=36600;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Flow {
    Api,
    Console,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CreateKeyScenario {
    pub caller: String,
    pub user: String,
    pub service: String,
    /// CredentialAgeDays as asked; `None` means never expires. Kept unvalidated: validation is
    /// part of what the scenario predicts.
    pub age_days: Option<i64>,
    pub flow: Flow,
    pub existing_keys: u32,
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
            ContextValue::single(&self.service),
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
    pub fn requests(&self) -> Vec<(Request, Option<String>)> {
        let mut out = Vec::new();
        if self.flow == Flow::Console {
            out.push((
                self.request("iam:CreateUser"),
                Some(format!("CreateUser {}", self.user)),
            ));
            let mut attach = self.request("iam:AttachUserPolicy");
            attach
                .context
                .insert("iam:PolicyARN", ContextValue::single(LIMITED_ACCESS_POLICY));
            out.push((
                attach,
                Some(format!(
                    "AttachUserPolicy {} {LIMITED_ACCESS_POLICY}",
                    self.user
                )),
            ));
        }
        out.push((self.create_request(), None));
        out
    }

    /// Order: parameter constraints, then authorization, then the user, the service and the limit
    /// (assumption B-CREATE-ORDER).
    pub fn run(&self, set: &PolicySet) -> ScenarioResult {
        if let Some(d) = self.age_days.filter(|d| !AGE_DAYS.contains(d)) {
            // AWS's generic constraint message (assumption B-AGE-VALIDATION-MESSAGE).
            let bound = if d < *AGE_DAYS.start() {
                "greater than or equal to 1"
            } else {
                "less than or equal to 36600"
            };
            let msg = format!("1 validation error detected: Value '{d}' at 'credentialAgeDays' failed to satisfy constraint: Member must have value {bound}");
            return ScenarioResult::rejected(Outcome::iam_error(
                "ValidationError",
                &msg,
                Vec::new(),
            ));
        }
        let mut steps = Vec::new();
        let mut side_effects = Vec::new();
        for (req, effect) in self.requests() {
            let denied = authorize(set, vec![req], &mut steps);
            if let Some(i) = denied {
                let s = &steps[i];
                // IAM names a user resource as `user NAME` (assumption B-IAM-RESOURCE-FORM).
                let resource = format!("user {}", self.user);
                let message = s.decision.message_with_resource(&s.request, set, &resource);
                let outcome = Outcome::iam_error(
                    "AccessDenied",
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
        let fail = |code: &'static str, msg: String, side_effects: Vec<String>| ScenarioResult {
            decision: decision.clone(),
            steps: steps.clone(),
            message: None,
            outcome: Outcome::iam_error(code, &msg, side_effects),
        };
        if self.flow == Flow::Api && !self.user_exists {
            return fail(
                "NoSuchEntity",
                format!("The user with name {} cannot be found.", self.user),
                side_effects,
            );
        }
        if !SUPPORTED_SERVICES.contains(&self.service.as_str()) {
            // The service model's description of the error (assumption B-NOT-SUPPORTED-MESSAGE).
            return fail(
                "NotSupportedService",
                "The specified service does not support service-specific credentials.".into(),
                side_effects,
            );
        }
        if self.existing_keys >= 2 {
            // Modelled on IAM's access-key quota text (assumption B-LIMIT-MESSAGE).
            return fail(
                "LimitExceeded",
                "Cannot exceed quota for ServiceSpecificCredentialsPerUser: 2".into(),
                side_effects,
            );
        }
        let expiry = match self.age_days {
            Some(d) => format!("{d} days"),
            None => "never expires".into(),
        };
        side_effects.push(format!(
            "CreateServiceSpecificCredential {} {} {expiry}",
            self.user, self.service
        ));
        ScenarioResult {
            decision,
            steps,
            message: None,
            outcome: Outcome::success(side_effects),
        }
    }
}
