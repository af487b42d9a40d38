pub mod wakeword;
