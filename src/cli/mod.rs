pub mod music;
pub mod outbox;
pub mod say;
pub mod skill;
pub mod wakeword;
