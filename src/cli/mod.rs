pub mod say;
pub mod skill;
pub mod wakeword;
