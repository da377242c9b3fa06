//! The T/CEC 102 wire format (contract §9): `Data` is Base64 of
//! AES-128-CBC with PKCS#7 padding, `Sig` is upper-case hex HMAC-MD5 over
//! the concatenated fields. Nothing here touches the store.

use aes::Aes128;
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use cbc::cipher::block_padding::Pkcs7;
use cbc::cipher::{BlockDecryptMut, BlockEncryptMut, KeyIvInit};
use hmac::{Hmac, Mac};
use kernel::secret::Secret;
use md5::Md5;
use serde::{Deserialize, Serialize};

type HmacMd5 = Hmac<Md5>;

/// The `Ret` codes of an answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ret {
    Ok,
    /// The signature does not match.
    Signature,
    /// No, unknown or expired `AccessToken`.
    Token,
    /// The envelope: missing fields, a stale time stamp, a replay, or a
    /// `Data` that is not Base64 of whole, well-padded blocks.
    Envelope,
    /// The decrypted payload: not JSON, or a field missing or out of range.
    Parameter,
    /// Too many wrong `OperatorSecret`s from this address: a token error
    /// on the wire, sent with HTTP 429 (the standard has no code of its own).
    Throttled,
    System,
}

impl Ret {
    pub fn code(self) -> u32 {
        match self {
            Ret::Ok => 0,
            Ret::Signature => 4001,
            Ret::Token | Ret::Throttled => 4002,
            Ret::Envelope => 4003,
            Ret::Parameter => 4004,
            Ret::System => 500,
        }
    }
}

/// A failure a partner sees as a `Ret` code and a message.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct Refusal {
    pub ret: Ret,
    pub message: String,
}

impl Refusal {
    pub fn new(ret: Ret, message: impl Into<String>) -> Self {
        Self {
            ret,
            message: message.into(),
        }
    }
}

/// A partner's three shared secrets, each 16 UTF-8 bytes.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WireKeys {
    pub data_secret: Secret<String>,
    pub data_secret_iv: Secret<String>,
    pub sig_secret: Secret<String>,
}

impl std::fmt::Debug for WireKeys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("WireKeys([redacted])")
    }
}

/// 16 bytes as the cipher needs them; secrets are checked to be 16 bytes
/// when a partner is created, so another length is a bug.
fn block(secret: &Secret<String>) -> Result<[u8; 16], Refusal> {
    secret
        .expose()
        .as_bytes()
        .try_into()
        .map_err(|_| Refusal::new(Ret::System, "the partner's secrets are not 16 bytes"))
}

impl WireKeys {
    /// Base64 of the AES-128-CBC (PKCS#7) cipher text of `plain`.
    pub fn encrypt(&self, plain: &[u8]) -> Result<String, Refusal> {
        let (key, iv) = (block(&self.data_secret)?, block(&self.data_secret_iv)?);
        let cipher = cbc::Encryptor::<Aes128>::new(&key.into(), &iv.into());
        Ok(BASE64.encode(cipher.encrypt_padded_vec_mut::<Pkcs7>(plain)))
    }

    /// The plain text of a `Data` field. Bad Base64, a length that is not
    /// whole blocks, and bad padding are all envelope errors (4003): the
    /// payload is never reached.
    pub fn decrypt(&self, data: &str) -> Result<Vec<u8>, Refusal> {
        let (key, iv) = (block(&self.data_secret)?, block(&self.data_secret_iv)?);
        let bytes = BASE64
            .decode(data)
            .map_err(|_| Refusal::new(Ret::Envelope, "Data is not Base64"))?;
        if bytes.is_empty() || bytes.len() % 16 != 0 {
            return Err(Refusal::new(
                Ret::Envelope,
                "Data is not whole AES blocks (a multiple of 16 bytes)",
            ));
        }
        cbc::Decryptor::<Aes128>::new(&key.into(), &iv.into())
            .decrypt_padded_vec_mut::<Pkcs7>(&bytes)
            .map_err(|_| Refusal::new(Ret::Envelope, "Data does not decrypt (bad padding)"))
    }

    /// Upper-case hex HMAC-MD5 over the concatenated parts.
    pub fn sign(&self, parts: &[&str]) -> String {
        hex::encode_upper(self.mac(parts).finalize().into_bytes())
    }

    /// Whether `sig` (either case) is the signature of `parts`, compared
    /// in constant time.
    pub fn verify(&self, parts: &[&str], sig: &str) -> bool {
        hex::decode(sig).is_ok_and(|raw| self.mac(parts).verify_slice(&raw).is_ok())
    }

    fn mac(&self, parts: &[&str]) -> HmacMd5 {
        // HMAC takes a key of any length.
        let mut mac = <HmacMd5 as Mac>::new_from_slice(self.sig_secret.expose().as_bytes())
            .unwrap_or_else(|_| unreachable!("HMAC accepts every key length"));
        for part in parts {
            mac.update(part.as_bytes());
        }
        mac
    }

    /// A request envelope for `payload`, as a partner sends it.
    pub fn seal_request(
        &self,
        operator_id: &str,
        payload: &[u8],
        time_stamp: &str,
        seq: &str,
    ) -> Result<WireRequest, Refusal> {
        let data = self.encrypt(payload)?;
        let sig = self.sign(&[operator_id, &data, time_stamp, seq]);
        Ok(WireRequest {
            operator_id: operator_id.to_owned(),
            data,
            time_stamp: time_stamp.to_owned(),
            seq: seq.to_owned(),
            sig,
        })
    }

    /// An answer carrying `payload` (Ret 0).
    pub fn seal_answer(&self, payload: &[u8]) -> Result<WireAnswer, Refusal> {
        let data = self.encrypt(payload)?;
        Ok(self.answer(Ret::Ok, String::new(), data))
    }

    /// A signed refusal, `Data` empty.
    pub fn refuse(&self, refusal: &Refusal) -> WireAnswer {
        self.answer(refusal.ret, refusal.message.clone(), String::new())
    }

    fn answer(&self, ret: Ret, msg: String, data: String) -> WireAnswer {
        let code = ret.code();
        let sig = self.sign(&[&code.to_string(), &msg, &data]);
        WireAnswer {
            ret: code,
            msg,
            data,
            sig,
        }
    }
}

/// `{OperatorID, Data, TimeStamp, Seq, Sig}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct WireRequest {
    #[serde(rename = "OperatorID")]
    #[cfg_attr(feature = "openapi", schema(example = "123456789"))]
    pub operator_id: String,
    #[serde(rename = "Data")]
    pub data: String,
    #[serde(rename = "TimeStamp")]
    #[cfg_attr(feature = "openapi", schema(example = "20180120165755"))]
    pub time_stamp: String,
    #[serde(rename = "Seq")]
    #[cfg_attr(feature = "openapi", schema(example = "0001"))]
    pub seq: String,
    #[serde(rename = "Sig")]
    pub sig: String,
}

impl WireRequest {
    /// The fields the signature covers, in order.
    pub fn signed_parts(&self) -> [&str; 4] {
        [&self.operator_id, &self.data, &self.time_stamp, &self.seq]
    }
}

/// `{Ret, Msg, Data, Sig}`; a refusal from before the partner is known is
/// unsigned (`Sig` empty): there is no secret to sign it with.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct WireAnswer {
    #[serde(rename = "Ret")]
    pub ret: u32,
    #[serde(rename = "Msg")]
    pub msg: String,
    #[serde(rename = "Data")]
    pub data: String,
    #[serde(rename = "Sig")]
    pub sig: String,
}

impl WireAnswer {
    pub fn unsigned(refusal: &Refusal) -> Self {
        Self {
            ret: refusal.ret.code(),
            msg: refusal.message.clone(),
            data: String::new(),
            sig: String::new(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn published() -> WireKeys {
        let s = || Secret::new("1234567890abcdef".to_owned());
        WireKeys {
            data_secret: s(),
            data_secret_iv: s(),
            sig_secret: s(),
        }
    }

    const PAYLOAD: &str =
        "{\"OperatorID\":\"123456789\",\n\"OperatorSecret\":\"1234567890abcdef\"}";
    const DATA: &str =
        "mYvffpNoFf4E/ZTC1tOw41TC5OlkEobfAYCm5N8hEusaLUaUIqOrXtdbMrSck0DSmfM7mRuOGMoCQzH0nWPGuw==";
    const ANSWER: &str = "uxeKP0ezR5yL8xSg4/ZCDh/N91/u86NXFxd2DrwZVW8zCPYcpl59Twz/yQZ3RaO4rDDrGmkvQignmNEJ+k4PGxdmIC+4fpJ8rU6osSobY+AeA0uueuQ5+eQiWBL6p6v5XMMm91brtK8yfFELYUWQzVcxABnAwK/+dyxtUhqLIxUpkwTEU/4ktN40df9IzzlLO5uvUknPGYu9yL0pp5w9vdRxmA1RiiTDNCysz6klr9bunGV3VJa2qpLcgeZMf/oG";

    #[test]
    fn the_published_request_vector_matches_byte_for_byte() {
        let keys = published();
        let req = keys
            .seal_request("123456789", PAYLOAD.as_bytes(), "20180120165755", "0001")
            .unwrap();
        assert_eq!(req.data, DATA);
        assert_eq!(req.sig, "D2D584A14F3F284445DF85D0E8C0697C");
        assert!(keys.verify(&req.signed_parts(), &req.sig.to_lowercase()));
        assert_eq!(keys.decrypt(DATA).unwrap(), PAYLOAD.as_bytes());
    }

    #[test]
    fn the_published_answer_verifies_and_decrypts_to_a_token_answer() {
        let keys = published();
        assert_eq!(
            keys.sign(&["0", "", ANSWER]),
            "58E52010C7DEE87FE183B0AFA5B2BE30"
        );
        let plain = keys.decrypt(ANSWER).unwrap();
        let text = String::from_utf8(plain).unwrap();
        assert!(text.contains("\r\n"), "a pretty-printed CRLF answer");
        let token: serde_json::Value = serde_json::from_str(&text).unwrap();
        assert_eq!(token["OperatorID"], "123456789");
        assert_eq!(token["TokenAvailableTime"], 7200);
        assert_eq!(token["SuccStat"], 0);
    }

    #[test]
    fn every_length_round_trips_and_pads_to_whole_blocks() {
        let keys = published();
        for len in [0usize, 1, 15, 16, 17, 31, 32, 33, 100] {
            let plain: Vec<u8> = (0..len).map(|i| (i * 7 % 251) as u8).collect();
            let data = keys.encrypt(&plain).unwrap();
            let raw = BASE64.decode(&data).unwrap();
            assert_eq!(raw.len(), (len / 16 + 1) * 16, "length {len}");
            assert_eq!(keys.decrypt(&data).unwrap(), plain, "length {len}");
        }
    }

    #[test]
    fn broken_data_is_an_envelope_error() {
        let keys = published();
        for bad in ["not base64!", "", "AAAA", &BASE64.encode([0u8; 16])] {
            assert_eq!(keys.decrypt(bad).unwrap_err().ret, Ret::Envelope, "{bad}");
        }
        // CBC: a flipped byte of the second-last block flips the same byte
        // of the last plain block, here the pad length (1..16 -> over 0x40).
        let mut raw = BASE64.decode(DATA).unwrap();
        let at = raw.len() - 17;
        raw[at] ^= 0x5a;
        assert_eq!(
            keys.decrypt(&BASE64.encode(raw)).unwrap_err().ret,
            Ret::Envelope
        );
    }

    #[test]
    fn a_changed_field_or_other_secret_fails_the_signature() {
        let keys = published();
        let req = keys
            .seal_request("123456789", PAYLOAD.as_bytes(), "20180120165755", "0001")
            .unwrap();
        assert!(!keys.verify(
            &["123456789", &req.data, "20180120165755", "0002"],
            &req.sig
        ));
        assert!(!keys.verify(&req.signed_parts(), "not hex"));
        let other = WireKeys {
            sig_secret: Secret::new("fedcba0987654321".into()),
            ..published()
        };
        assert!(!other.verify(&req.signed_parts(), &req.sig));
    }

    #[test]
    fn answers_are_signed_over_ret_msg_and_data() {
        let keys = published();
        let refusal = keys.refuse(&Refusal::new(Ret::Parameter, "PageSize must be 1..50"));
        assert_eq!(refusal.ret, 4004);
        assert_eq!(refusal.data, "");
        assert_eq!(
            refusal.sig,
            keys.sign(&["4004", "PageSize must be 1..50", ""])
        );
    }
}
