//! The explicit list of skills and which one handles each intent.

use std::collections::HashMap;

use thiserror::Error;

use super::Skill;

#[derive(Debug, Error)]
pub enum RegistryError {
    #[error("skill {skill} wants intent {intent}, which skill {owner} already handles; rename one")]
    Taken {
        skill: String,
        intent: String,
        owner: String,
    },
    #[error("two skills are called {0}; skill ids must be unique")]
    Duplicate(String),
}

#[derive(Default)]
pub struct Registry {
    skills: Vec<Box<dyn Skill>>,
    by_intent: HashMap<String, usize>,
}

impl Registry {
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds a skill.
    ///
    /// # Errors
    /// An id or an intent that another skill already has.
    pub fn add(&mut self, skill: Box<dyn Skill>) -> Result<(), RegistryError> {
        if self.skills.iter().any(|s| s.id() == skill.id()) {
            return Err(RegistryError::Duplicate(skill.id().to_string()));
        }
        for intent in skill.intents() {
            if let Some(&i) = self.by_intent.get(&intent) {
                return Err(RegistryError::Taken {
                    skill: skill.id().to_string(),
                    intent,
                    owner: self.skills[i].id().to_string(),
                });
            }
        }
        let index = self.skills.len();
        for intent in skill.intents() {
            self.by_intent.insert(intent, index);
        }
        self.skills.push(skill);
        Ok(())
    }

    pub fn skill_for(&mut self, intent: &str) -> Option<&mut Box<dyn Skill>> {
        let i = *self.by_intent.get(intent)?;
        self.skills.get_mut(i)
    }

    /// Run-time lists the skills changed since last asked.
    pub fn changed_lists(&mut self) -> Vec<super::RuntimeList> {
        self.skills
            .iter_mut()
            .filter_map(|s| s.lists())
            .flatten()
            .collect()
    }

    pub fn serves(&self, intent: &str) -> bool {
        self.by_intent.contains_key(intent)
    }

    /// (id, description) of each skill that describes itself in `lang`.
    pub fn descriptions(&self, lang: &str) -> Vec<(String, String)> {
        self.skills
            .iter()
            .filter_map(|s| Some((s.id().to_string(), s.describe(lang)?)))
            .collect()
    }

    /// (id, intents) of every skill, in registry order.
    pub fn list(&self) -> Vec<(&str, Vec<String>)> {
        self.skills.iter().map(|s| (s.id(), s.intents())).collect()
    }

    pub fn ids(&self) -> Vec<&str> {
        self.skills.iter().map(|s| s.id()).collect()
    }
}
