//! The play queue as plain data: what is queued, in what order, where playback is. Backends
//! keep one and persist it; every move is a pure method here, tested without audio.

use serde::{Deserialize, Serialize};

use super::{Item, PlayState};

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Queue {
    pub items: Vec<Item>,
    /// Play order: indexes into `items` (a permutation when shuffled).
    pub order: Vec<usize>,
    /// Position in `order` of the current track.
    pub pos: usize,
    pub state: PlayState,
    /// Where in the current track playback is (saved so a restart resumes there).
    pub position_ms: u64,
    pub shuffled: bool,
}

/// A small deterministic shuffle (xorshift): good enough for a play queue and no extra crate.
fn shuffle(n: usize, mut seed: u64) -> Vec<usize> {
    let mut order: Vec<usize> = (0..n).collect();
    seed |= 1;
    for i in (1..n).rev() {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        order.swap(i, (seed % (i as u64 + 1)) as usize);
    }
    order
}

impl Queue {
    /// A new queue of `items`, playing from the first (in a shuffled order if `seed` is given).
    pub fn new(items: Vec<Item>, seed: Option<u64>) -> Queue {
        let order = match seed {
            Some(s) => shuffle(items.len(), s),
            None => (0..items.len()).collect(),
        };
        Queue {
            state: if items.is_empty() {
                PlayState::Stopped
            } else {
                PlayState::Playing
            },
            items,
            order,
            pos: 0,
            position_ms: 0,
            shuffled: seed.is_some(),
        }
    }

    pub fn current(&self) -> Option<&Item> {
        self.items.get(*self.order.get(self.pos)?)
    }

    /// The track after the current one, if any.
    pub fn upcoming(&self) -> Option<&Item> {
        self.items.get(*self.order.get(self.pos + 1)?)
    }

    /// Moves to the next track. `false` at the end of the queue (playback then stops).
    pub fn advance(&mut self) -> bool {
        self.position_ms = 0;
        if self.pos + 1 < self.order.len() {
            self.pos += 1;
            true
        } else {
            self.state = PlayState::Stopped;
            false
        }
    }

    /// Moves to the previous track; on the first one, restarts it.
    pub fn previous(&mut self) {
        self.position_ms = 0;
        self.pos = self.pos.saturating_sub(1);
    }

    /// Shuffles what is left to play, keeping the current track and the `keep - 1` after it
    /// (already handed to the audio output) where they are.
    pub fn reshuffle_after(&mut self, keep: usize, seed: u64) {
        if self.order.len() > self.pos + keep {
            let rest = &mut self.order[self.pos + keep..];
            let perm = shuffle(rest.len(), seed);
            let copy: Vec<usize> = rest.to_vec();
            for (slot, i) in rest.iter_mut().zip(perm) {
                *slot = copy[i];
            }
        }
        self.shuffled = true;
    }

    pub fn is_empty(&self) -> bool {
        self.order.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn items(n: usize) -> Vec<Item> {
        (0..n)
            .map(|i| Item {
                uri: format!("/m/{i}.mp3"),
                title: format!("Song {i}"),
                ..Item::default()
            })
            .collect()
    }

    #[test]
    fn plays_in_order_and_stops_at_the_end() {
        let mut q = Queue::new(items(3), None);
        assert_eq!(q.current().unwrap().title, "Song 0");
        assert_eq!(q.upcoming().unwrap().title, "Song 1");
        assert!(q.advance() && q.advance());
        assert_eq!(q.current().unwrap().title, "Song 2");
        assert!(!q.advance());
        assert_eq!(q.state, PlayState::Stopped);
        q.previous();
        assert_eq!(q.current().unwrap().title, "Song 1");
        q.previous();
        q.previous();
        assert_eq!(q.current().unwrap().title, "Song 0");
    }

    #[test]
    fn shuffle_is_a_permutation_and_keeps_the_current_track() {
        let q = Queue::new(items(20), Some(42));
        let mut o = q.order.clone();
        assert_ne!(o, (0..20).collect::<Vec<_>>(), "not shuffled");
        o.sort_unstable();
        assert_eq!(o, (0..20).collect::<Vec<_>>());
        let mut q = Queue::new(items(20), None);
        q.advance();
        q.reshuffle_after(1, 7);
        assert_eq!(q.current().unwrap().title, "Song 1");
        assert_eq!(q.order[0], 0);
        let mut rest = q.order[2..].to_vec();
        assert_ne!(rest, (2..20).collect::<Vec<_>>());
        rest.sort_unstable();
        assert_eq!(rest, (2..20).collect::<Vec<_>>());
    }

    #[test]
    fn survives_json() {
        let mut q = Queue::new(items(3), Some(1));
        q.advance();
        q.position_ms = 12_345;
        let back: Queue = serde_json::from_str(&serde_json::to_string(&q).unwrap()).unwrap();
        assert_eq!(back, q);
    }
}
