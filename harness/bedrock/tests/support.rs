//! What the test modules share.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use base64::Engine as _;

/// 2025-07-01T00:00:00Z: when the hand-made keys of these tests are signed.
pub fn signed_at() -> SystemTime {
    UNIX_EPOCH + Duration::from_secs(1_751_328_000)
}

/// Standard base64 with padding, as both kinds of Bedrock key carry their contents.
pub fn base64(bytes: impl AsRef<[u8]>) -> String {
    base64::engine::general_purpose::STANDARD.encode(bytes)
}
