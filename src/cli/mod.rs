pub mod doctor;
pub mod music;
pub mod outbox;
pub mod say;
pub mod setup;
pub mod skill;
pub mod wakeword;
