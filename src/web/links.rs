//! The links Beacon gives out: the public status page's, and agents' signed, expiring
//! transcript links (HMAC-SHA256 over the ticket, the closing, the agent and the expiry).

use std::sync::Arc;

use hmac::{Hmac, Mac};
use sha2::Sha256;

/// Makes the links Beacon gives out: the status page's, and agents' signed transcript links.
#[derive(Clone)]
pub struct Links {
    base_url: String,
    key: Arc<Vec<u8>>,
    transcript_ttl_ms: i64,
}

impl std::fmt::Debug for Links {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The key never shows in logs.
        f.debug_struct("Links")
            .field("base_url", &self.base_url)
            .finish_non_exhaustive()
    }
}

/// What a transcript link's signature covers.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TranscriptGrant {
    pub ticket_id: i64,
    pub closing: i64,
    /// The agent the link was given to.
    pub agent: u64,
    /// When it stops working, Unix seconds.
    pub expires: i64,
}

impl TranscriptGrant {
    fn message(&self) -> String {
        format!(
            "transcript:{}:{}:{}:{}",
            self.ticket_id, self.closing, self.agent, self.expires
        )
    }
}

impl Links {
    pub fn new(base_url: &str, key: Vec<u8>, transcript_link_minutes: u32) -> Links {
        Links {
            base_url: base_url.trim_end_matches('/').to_string(),
            key: Arc::new(key),
            transcript_ttl_ms: i64::from(transcript_link_minutes) * 60_000,
        }
    }

    /// The public status page of a server.
    pub fn status_page(&self, guild_id: u64) -> String {
        format!("{}/status/{guild_id}", self.base_url)
    }

    fn mac(&self) -> Hmac<Sha256> {
        Hmac::<Sha256>::new_from_slice(&self.key).expect("HMAC takes a key of any length")
    }

    fn signature(&self, grant: &TranscriptGrant) -> String {
        let mut mac = self.mac();
        mac.update(grant.message().as_bytes());
        hex::encode(mac.finalize().into_bytes())
    }

    /// A link to a closing's transcript for one agent, working until `now` plus the configured
    /// time. Returns the link and when it expires (Unix seconds).
    pub fn transcript(
        &self,
        ticket_id: i64,
        closing: i64,
        agent: u64,
        now_ms: i64,
    ) -> (String, i64) {
        let grant = TranscriptGrant {
            ticket_id,
            closing,
            agent,
            expires: (now_ms + self.transcript_ttl_ms) / 1000,
        };
        let link = format!(
            "{}/transcripts/{ticket_id}/{closing}?agent={agent}&expires={}&sig={}",
            self.base_url,
            grant.expires,
            self.signature(&grant)
        );
        (link, grant.expires)
    }

    /// Whether `sig` is this key's signature of `grant` and the grant has not expired. The
    /// comparison takes the same time whatever the signature.
    pub fn verify(&self, grant: &TranscriptGrant, sig: &str, now_ms: i64) -> Result<(), Denied> {
        let bytes = hex::decode(sig).map_err(|_| Denied::BadSignature)?;
        let mut mac = self.mac();
        mac.update(grant.message().as_bytes());
        mac.verify_slice(&bytes).map_err(|_| Denied::BadSignature)?;
        if now_ms / 1000 >= grant.expires {
            return Err(Denied::Expired);
        }
        Ok(())
    }
}

/// Why a transcript link was refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Denied {
    BadSignature,
    Expired,
}
