//! Truora's documented status and reason codes (see the README's fidelity notes).
//!
//! Declined and expired reasons come from Truora's "declined reasons" and "expired reasons"
//! guides. Truora publishes no government-specific list, so the mock accepts the face and
//! registry codes that can plausibly end a Registraduría check, and nothing else: a typo in a
//! scenario file is an error, not a silently invented code.

/// Declined reasons a TruIdentidad validation can plausibly end with.
pub const DECLINED_REASONS: &[&str] = &[
    "similarity_threshold_not_passed",
    "liveness_verification_not_passed",
    "passive_liveness_verification_not_passed",
    "face_not_detected",
    "face_in_blocklist",
    "fraudster_face_match_in_client_collection",
    "risky_face_detected",
    "photo_of_photo",
    "possible_fraud",
    "data_not_match_with_government_database",
    "identity_belongs_to_dead_person",
    "document_unregistered",
    "national_registrar_inconsistency",
    "underage",
    "age_above_threshold",
    "invalid_video_file",
    "no_face_media_uploaded",
    "abandoned_without_using_retries",
    "canceled",
    "geolocation_denied",
    "vpn_detected",
    "process_started_late",
    "validation_not_finished",
    "validation_expired",
    "unwanted_camera_permissions",
    "user_process_postponed",
    "face_validation_not_started",
    "data_authorization_not_provided",
];

/// Expired reasons documented for face validations.
pub const EXPIRED_REASONS: &[&str] = &[
    "input_file_not_uploaded",
    "manual_review_expired",
    "face_validation_not_started",
];

/// The expired reason used when a validation times out and its scenario names none: the user
/// never uploaded the liveness video in time.
pub const DEFAULT_EXPIRED_REASON: &str = "input_file_not_uploaded";
