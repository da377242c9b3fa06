//! The T/CEC 102 wire format from the partner's side, written from the
//! standard (no server crate): AES-128-CBC + PKCS#7 Data in Base64, and
//! upper-case hex HMAC-MD5 signatures.

use aes::Aes128;
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use cbc::cipher::block_padding::Pkcs7;
use cbc::cipher::{BlockDecryptMut, BlockEncryptMut, KeyIvInit};
use hmac::{Hmac, Mac};
use md5::Md5;
use serde_json::{Value, json};

#[derive(Debug, Clone)]
pub struct Keys {
    pub operator_id: String,
    pub data_secret: [u8; 16],
    pub iv: [u8; 16],
    pub sig_secret: Vec<u8>,
    pub offset_minutes: i64,
}

fn block(s: &str, what: &str) -> Result<[u8; 16], String> {
    s.as_bytes()
        .try_into()
        .map_err(|_| format!("{what} must be 16 bytes"))
}

impl Keys {
    pub fn new(
        operator_id: &str,
        data_secret: &str,
        iv: &str,
        sig_secret: &str,
        offset_minutes: i64,
    ) -> Result<Self, String> {
        Ok(Self {
            operator_id: operator_id.to_owned(),
            data_secret: block(data_secret, "data secret")?,
            iv: block(iv, "data secret IV")?,
            sig_secret: sig_secret.as_bytes().to_vec(),
            offset_minutes,
        })
    }

    pub fn sign(&self, parts: &[&str]) -> String {
        let mut mac = <Hmac<Md5> as Mac>::new_from_slice(&self.sig_secret)
            .unwrap_or_else(|_| unreachable!("HMAC takes keys of any length"));
        for p in parts {
            mac.update(p.as_bytes());
        }
        hex::encode_upper(mac.finalize().into_bytes())
    }

    pub fn encrypt(&self, plain: &[u8]) -> String {
        let c = cbc::Encryptor::<Aes128>::new(&self.data_secret.into(), &self.iv.into());
        BASE64.encode(c.encrypt_padded_vec_mut::<Pkcs7>(plain))
    }

    pub fn decrypt(&self, data: &str) -> Result<Value, String> {
        let raw = BASE64.decode(data).map_err(|_| "Data is not Base64")?;
        let plain = cbc::Decryptor::<Aes128>::new(&self.data_secret.into(), &self.iv.into())
            .decrypt_padded_vec_mut::<Pkcs7>(&raw)
            .map_err(|_| "Data does not decrypt")?;
        serde_json::from_slice(&plain).map_err(|e| format!("Data is not JSON: {e}"))
    }

    /// `{OperatorID, Data, TimeStamp, Seq, Sig}` for `payload`, stamped now.
    pub fn seal(&self, payload: &Value, seq: u32) -> Value {
        let at = chrono::Utc::now() + chrono::Duration::minutes(self.offset_minutes);
        let stamp = at.format("%Y%m%d%H%M%S").to_string();
        let seq = format!("{:04}", seq % 10_000);
        let data = self.encrypt(payload.to_string().as_bytes());
        let sig = self.sign(&[&self.operator_id, &data, &stamp, &seq]);
        json!({"OperatorID": self.operator_id, "Data": data, "TimeStamp": stamp, "Seq": seq, "Sig": sig})
    }

    /// Checks an answer's signature and opens its Data.
    pub fn open_answer(&self, answer: &Value) -> Result<(i64, String, Value), String> {
        let ret = answer["Ret"].as_i64().ok_or("no Ret in the answer")?;
        let msg = answer["Msg"].as_str().unwrap_or_default().to_owned();
        let data = answer["Data"].as_str().unwrap_or_default();
        let sig = answer["Sig"].as_str().unwrap_or_default();
        if !sig.is_empty() && !sig.eq_ignore_ascii_case(&self.sign(&[&ret.to_string(), &msg, data]))
        {
            return Err("the answer's Sig does not verify".into());
        }
        let data = if data.is_empty() {
            Value::Null
        } else {
            self.decrypt(data)?
        };
        Ok((ret, msg, data))
    }

    /// Checks a pushed request's signature and opens its Data.
    pub fn open_request(&self, req: &Value) -> Result<Value, String> {
        let field = |k: &str| req[k].as_str().unwrap_or_default().to_owned();
        let (data, stamp, seq, sig) = (
            field("Data"),
            field("TimeStamp"),
            field("Seq"),
            field("Sig"),
        );
        if !sig.eq_ignore_ascii_case(&self.sign(&[&field("OperatorID"), &data, &stamp, &seq])) {
            return Err("the push's Sig does not verify".into());
        }
        self.decrypt(&data)
    }

    /// A signed Ret 0 answer carrying `payload`.
    pub fn answer(&self, payload: &Value) -> Value {
        let data = self.encrypt(payload.to_string().as_bytes());
        let sig = self.sign(&["0", "", &data]);
        json!({"Ret": 0, "Msg": "", "Data": data, "Sig": sig})
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_published_vector() {
        let k = Keys::new(
            "123456789",
            "1234567890abcdef",
            "1234567890abcdef",
            "1234567890abcdef",
            480,
        )
        .unwrap();
        let data = k.encrypt(
            "{\"OperatorID\":\"123456789\",\n\"OperatorSecret\":\"1234567890abcdef\"}".as_bytes(),
        );
        assert_eq!(
            data,
            "mYvffpNoFf4E/ZTC1tOw41TC5OlkEobfAYCm5N8hEusaLUaUIqOrXtdbMrSck0DSmfM7mRuOGMoCQzH0nWPGuw=="
        );
        assert_eq!(
            k.sign(&["123456789", &data, "20180120165755", "0001"]),
            "D2D584A14F3F284445DF85D0E8C0697C"
        );
    }
}
