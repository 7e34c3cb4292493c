use std::collections::HashMap;

/// A bounded cache.
pub struct Cache {
    items: HashMap<String, String>,
    capacity: usize,
}

impl Cache {
    /// Create an empty cache.
    pub fn new(capacity: usize) -> Self {
        Cache { items: HashMap::new(), capacity }
    }

    #[inline]
    pub fn get(&self, key: &str) -> Option<&String> {
        self.items.get(key)
    }
}

pub fn hash_key(key: &str) -> u64 {
    key.len() as u64
}
