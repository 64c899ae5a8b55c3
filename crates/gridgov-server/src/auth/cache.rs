//! Sessions recently read from the store, so that a busy client's requests do not each cost a
//! database query.
//!
//! An entry is the session and its account as the store gave them, with the instant they were
//! read; the middleware trusts it for at most [`AuthPolicy::cache_ttl`](super::AuthPolicy)
//! after that instant and then asks the store again. The cache is bounded (the oldest entry of a
//! full shard goes) and split into shards by the token hash, each behind its own `RwLock`, so
//! that concurrent hits only share read locks.
//!
//! A removal (logout, a timeout, a disabled account) must not be undone by a request that read
//! the store just before it: [`SessionCache::ticket`] is taken before the store is read, every
//! removal bumps its shard's count, and [`SessionCache::insert`] refuses a ticket that a removal
//! has overtaken.

use std::collections::HashMap;
use std::sync::{PoisonError, RwLock, RwLockReadGuard, RwLockWriteGuard};
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use gridgov_store::{Session, User};

/// Shards of a cache (fewer when it holds fewer entries).
const SHARDS: usize = 16;

/// A bounded, thread-safe map from token hash to the session and account last read from the
/// store.
#[derive(Debug)]
pub struct SessionCache {
    shards: Box<[RwLock<Shard>]>,
}

#[derive(Debug, Default)]
struct Shard {
    entries: HashMap<[u8; 32], Entry>,
    /// The most entries this shard holds.
    capacity: usize,
    /// Removals so far: an insert whose ticket is older is refused.
    removals: u64,
}

#[derive(Debug)]
struct Entry {
    session: Session,
    user: User,
    read_at: Instant,
}

/// Taken before a session is read from the store, handed to [`SessionCache::insert`]: it
/// stops a removal made meanwhile from being undone.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Ticket(u64);

impl SessionCache {
    /// The number of sessions a server keeps by default.
    pub const DEFAULT_CAPACITY: usize = 10_000;

    /// A cache of at most `capacity` sessions (0: nothing is ever kept).
    pub fn new(capacity: usize) -> Self {
        let n = capacity.min(SHARDS);
        let shards = (0..n)
            .map(|i| {
                RwLock::new(Shard {
                    capacity: capacity / n + usize::from(i < capacity % n),
                    ..Shard::default()
                })
            })
            .collect();
        Self { shards }
    }

    fn shard(&self, hash: &[u8; 32]) -> Option<&RwLock<Shard>> {
        // The hash is a SHA-256: its first bytes are evenly spread.
        let n = self.shards.len();
        (n > 0).then(|| &self.shards[usize::from(u16::from_le_bytes([hash[0], hash[1]])) % n])
    }

    fn read(lock: &RwLock<Shard>) -> RwLockReadGuard<'_, Shard> {
        // A panic under the lock leaves a map that is still whole: keep using it.
        lock.read().unwrap_or_else(PoisonError::into_inner)
    }

    fn write(lock: &RwLock<Shard>) -> RwLockWriteGuard<'_, Shard> {
        lock.write().unwrap_or_else(PoisonError::into_inner)
    }

    /// The session and account of this token hash, if they were read from the store less
    /// than `ttl` before `now`.
    pub fn get(&self, hash: &[u8; 32], ttl: Duration, now: Instant) -> Option<(Session, User)> {
        self.peek(hash, ttl, now, |session, user| {
            (session.clone(), user.clone())
        })
    }

    /// [`SessionCache::get`] without a copy: `f` reads the session and account in place (under
    /// the shard's read lock, so it must be short) and its result is returned.
    pub fn peek<R>(
        &self,
        hash: &[u8; 32],
        ttl: Duration,
        now: Instant,
        f: impl FnOnce(&Session, &User) -> R,
    ) -> Option<R> {
        let shard = Self::read(self.shard(hash)?);
        let e = shard.entries.get(hash)?;
        (now.saturating_duration_since(e.read_at) < ttl).then(|| f(&e.session, &e.user))
    }

    /// A ticket for an [`insert`](Self::insert) of this hash: take it before reading the store.
    pub fn ticket(&self, hash: &[u8; 32]) -> Ticket {
        Ticket(self.shard(hash).map_or(0, |s| Self::read(s).removals))
    }

    /// Keeps a session and its account as read from the store at `read_at` (replacing what
    /// was kept for its hash), unless a removal in its shard came after the `ticket`: then the
    /// read may predate a logout, and nothing is kept. When the shard is full, its oldest
    /// entry goes. Returns whether it was kept.
    pub fn insert(&self, ticket: Ticket, session: Session, user: User, read_at: Instant) -> bool {
        let Some(lock) = self.shard(&session.token_hash) else {
            return false;
        };
        let mut shard = Self::write(lock);
        if shard.removals != ticket.0 {
            return false;
        }
        if shard.entries.len() >= shard.capacity && !shard.entries.contains_key(&session.token_hash)
        {
            let oldest = shard
                .entries
                .iter()
                .min_by_key(|(_, e)| e.read_at)
                .map(|(k, _)| *k);
            if let Some(oldest) = oldest {
                shard.entries.remove(&oldest);
            }
        }
        shard.entries.insert(
            session.token_hash,
            Entry {
                session,
                user,
                read_at,
            },
        );
        true
    }

    /// Records that the session was seen `at` (written to the store too), so that the idle
    /// timeout counts from there; the entry is trusted no longer than before.
    pub fn touch(&self, hash: &[u8; 32], at: DateTime<Utc>) {
        if let Some(lock) = self.shard(hash) {
            if let Some(e) = Self::write(lock).entries.get_mut(hash) {
                e.session.last_seen_at = at;
            }
        }
    }

    /// Forgets a session (revoked or timed out): the next request asks the store.
    pub fn remove(&self, hash: &[u8; 32]) {
        if let Some(lock) = self.shard(hash) {
            let mut shard = Self::write(lock);
            shard.removals = shard.removals.wrapping_add(1);
            shard.entries.remove(hash);
        }
    }

    /// The number of sessions kept (fresh or not).
    pub fn len(&self) -> usize {
        self.shards
            .iter()
            .map(|s| Self::read(s).entries.len())
            .sum()
    }

    /// Whether no session is kept.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

impl Default for SessionCache {
    /// A cache of [`SessionCache::DEFAULT_CAPACITY`] sessions.
    fn default() -> Self {
        Self::new(Self::DEFAULT_CAPACITY)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use gridgov_model::Role;
    use gridgov_store::UserId;

    /// Hashes spread over every shard.
    fn hash(i: u32) -> [u8; 32] {
        super::super::password::token_hash(&i.to_string())
    }

    /// Hashes that all fall in the first shard.
    fn one_shard(i: u32) -> [u8; 32] {
        let mut h = [0; 32];
        h[28..].copy_from_slice(&i.to_be_bytes());
        h
    }

    fn session(token_hash: [u8; 32], i: u32) -> (Session, User) {
        let now = Utc::now();
        let session = Session {
            token_hash,
            user_id: UserId(i.into()),
            created_at: now,
            last_seen_at: now,
        };
        let user = User {
            id: UserId(i.into()),
            name: format!("user{i}").parse().unwrap(),
            role: Role::CountyAdmin,
            scope: "520526000000".parse().unwrap(),
            disabled: false,
            created_at: now,
        };
        (session, user)
    }

    fn put(cache: &SessionCache, h: [u8; 32], i: u32, read_at: Instant) -> bool {
        let (s, u) = session(h, i);
        cache.insert(cache.ticket(&h), s, u, read_at)
    }

    const TTL: Duration = Duration::from_secs(5);

    #[test]
    fn a_fresh_entry_is_a_hit_and_an_unknown_hash_a_miss() {
        let cache = SessionCache::default();
        let t0 = Instant::now();
        let (s, u) = session(hash(1), 1);
        assert!(cache.insert(cache.ticket(&hash(1)), s.clone(), u.clone(), t0));
        assert_eq!(cache.get(&hash(1), TTL, t0), Some((s, u)));
        assert_eq!(cache.get(&hash(2), TTL, t0), None);
        assert_eq!(cache.len(), 1);
    }

    #[test]
    fn an_entry_is_trusted_for_the_ttl_only() {
        let cache = SessionCache::default();
        let t0 = Instant::now();
        put(&cache, hash(1), 1, t0);
        assert!(cache.get(&hash(1), TTL, t0 + TTL / 2).is_some());
        assert!(cache.get(&hash(1), TTL, t0 + TTL).is_none());
        assert!(cache.get(&hash(1), TTL, t0 + TTL * 2).is_none());
        // A zero TTL trusts nothing.
        assert!(cache.get(&hash(1), Duration::ZERO, t0).is_none());
        // Read again from the store: trusted again, in the same entry.
        put(&cache, hash(1), 1, t0 + TTL * 2);
        assert!(cache.get(&hash(1), TTL, t0 + TTL * 2).is_some());
        assert_eq!(cache.len(), 1);
    }

    #[test]
    fn the_cache_never_holds_more_than_its_capacity() {
        for capacity in [0, 1, 5, 16, 100, 1000] {
            let cache = SessionCache::new(capacity);
            let t0 = Instant::now();
            for i in 0..3000 {
                put(&cache, hash(i), i, t0 + Duration::from_millis(i.into()));
                assert!(cache.len() <= capacity, "{capacity}");
            }
            assert_eq!(cache.len(), capacity, "{capacity}");
        }
    }

    #[test]
    fn a_full_shard_drops_its_oldest_entry() {
        // 16 shards of 4; every hash here falls in the first one.
        let cache = SessionCache::new(64);
        let t0 = Instant::now();
        let at = |i: u32| t0 + Duration::from_millis(i.into());
        // Read in the order 2, 0, 1, 3: 2 is the oldest.
        for (n, i) in [2, 0, 1, 3].into_iter().enumerate() {
            put(&cache, one_shard(i), i, at(10 * n as u32));
        }
        assert_eq!(cache.len(), 4);
        put(&cache, one_shard(4), 4, at(100));
        assert_eq!(cache.len(), 4);
        let kept = |i| cache.get(&one_shard(i), TTL, at(100)).is_some();
        assert!(!kept(2), "the oldest read goes");
        assert!(kept(0) && kept(1) && kept(3) && kept(4));
        // Replacing a kept entry drops nothing.
        put(&cache, one_shard(4), 4, at(101));
        assert_eq!(cache.len(), 4);
        assert!(kept(0) && kept(1) && kept(3) && kept(4));
    }

    #[test]
    fn a_removed_session_is_gone_and_a_read_from_before_the_removal_is_not_kept() {
        let cache = SessionCache::default();
        let t0 = Instant::now();
        put(&cache, hash(1), 1, t0);
        put(&cache, hash(2), 2, t0);
        cache.remove(&hash(1));
        assert!(cache.get(&hash(1), TTL, t0).is_none());
        assert!(cache.get(&hash(2), TTL, t0).is_some());
        assert_eq!(cache.len(), 1);

        // A request took its ticket and read the store; a logout then revoked and removed the
        // session; the request's insert comes last and must not bring it back.
        let (s, u) = session(hash(3), 3);
        let ticket = cache.ticket(&hash(3));
        cache.remove(&hash(3));
        assert!(!cache.insert(ticket, s.clone(), u.clone(), t0));
        assert!(cache.get(&hash(3), TTL, t0).is_none());
        // A fresh ticket works.
        assert!(cache.insert(cache.ticket(&hash(3)), s, u, t0));
        assert!(cache.get(&hash(3), TTL, t0).is_some());
    }

    #[test]
    fn a_touch_moves_last_seen_but_not_the_trust() {
        let cache = SessionCache::default();
        let t0 = Instant::now();
        put(&cache, hash(1), 1, t0);
        let later = Utc::now() + chrono::Duration::minutes(2);
        cache.touch(&hash(1), later);
        let (s, _) = cache.get(&hash(1), TTL, t0).unwrap();
        assert_eq!(s.last_seen_at, later);
        assert!(cache.get(&hash(1), TTL, t0 + TTL).is_none());
        // Touching what is not kept keeps nothing.
        cache.touch(&hash(2), later);
        assert_eq!(cache.len(), 1);
    }

    #[test]
    fn many_threads_share_it() {
        let cache = std::sync::Arc::new(SessionCache::new(500));
        let t0 = Instant::now();
        let threads: Vec<_> = (0..8u32)
            .map(|t| {
                let cache = cache.clone();
                std::thread::spawn(move || {
                    for i in 0..1000 {
                        let k = t * 1000 + i;
                        put(&cache, hash(k), k, t0);
                        cache.get(&hash(k), TTL, t0);
                        if i % 7 == 0 {
                            cache.remove(&hash(k));
                            assert!(cache.get(&hash(k), TTL, t0).is_none());
                        }
                    }
                })
            })
            .collect();
        for t in threads {
            t.join().unwrap();
        }
        assert!(cache.len() <= 500);
    }
}
