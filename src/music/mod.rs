//! Music: the local library (`library`). The player, the voice commands, radio and the MPD
//! backend build on it (issue 7).

pub mod library;
