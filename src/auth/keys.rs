//! Verification keys: each pinned to one algorithm, built from a secret, a PEM or a JWKS.

use std::fmt;

use jsonwebtoken::jwk::{
    AlgorithmParameters, EllipticCurve, Jwk, JwkSet, KeyAlgorithm, PublicKeyUse,
};
use jsonwebtoken::{Algorithm, AlgorithmFamily, DecodingKey};
use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Deserializer};

use super::config::{AuthConfigError, MIN_HMAC_SECRET_BYTES};

#[derive(Clone)]
pub(super) struct VerifyingKey {
    pub(super) kid: Option<String>,
    pub(super) alg: Algorithm,
    pub(super) key: DecodingKey,
}

impl fmt::Debug for VerifyingKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Key")
            .field("kid", &self.kid)
            .field("alg", &self.alg)
            .finish_non_exhaustive()
    }
}

/// Why one configured key was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum KeyProblem {
    #[error("alg \"none\" is never accepted")]
    AlgNone,
    #[error("unknown alg {0:?}")]
    UnknownAlgorithm(String),
    #[error("alg is required")]
    MissingAlgorithm,
    #[error("give exactly one of secret, public_key_pem or jwks")]
    KeyMaterial,
    #[error("kid and alg go inside each JWKS key")]
    OuterKidOrAlgWithJwks,
    #[error("the secret is {0} bytes, at least {MIN_HMAC_SECRET_BYTES} are required")]
    SecretTooShort(usize),
    #[error("{0:?} needs public_key_pem or jwks, not a secret")]
    SecretForPublicKeyAlg(Algorithm),
    #[error("{0:?} needs a secret, not a public key")]
    PublicKeyForHmacAlg(Algorithm),
    #[error("public_key_pem is not a PEM public key or certificate")]
    BadPem,
    #[error("the key cannot verify {0:?} signatures")]
    KeyDoesNotFitAlg(Algorithm),
    #[error("HMAC (oct) keys are not accepted in a JWKS, give them as secret")]
    HmacInJwks,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawKey {
    kid: Option<String>,
    alg: Option<String>,
    secret: Option<Secret>,
    public_key_pem: Option<String>,
    jwks: Option<JwkSet>,
}

struct Secret(SecretString);

impl<'de> Deserialize<'de> for Secret {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        String::deserialize(d).map(|s| Secret(SecretString::from(s)))
    }
}

impl RawKey {
    pub(super) fn build(
        self,
        index: usize,
        out: &mut Vec<VerifyingKey>,
    ) -> Result<(), AuthConfigError> {
        let at = format!("keys[{index}]");
        let fail = |kid: &Option<String>, problem| AuthConfigError::Key {
            at: at.clone(),
            kid: kid.clone(),
            problem,
        };
        let alg = || {
            self.alg
                .as_deref()
                .ok_or(KeyProblem::MissingAlgorithm)
                .and_then(parse_alg)
        };
        match (&self.secret, &self.public_key_pem, &self.jwks) {
            (Some(secret), None, None) => {
                let key = alg()
                    .and_then(|alg| hmac_key(secret, alg))
                    .map_err(|p| fail(&self.kid, p))?;
                out.push(VerifyingKey {
                    kid: self.kid,
                    alg: key.0,
                    key: key.1,
                });
            }
            (None, Some(pem), None) => {
                let key = alg()
                    .and_then(|alg| pem_key(pem, alg))
                    .map_err(|p| fail(&self.kid, p))?;
                out.push(VerifyingKey {
                    kid: self.kid,
                    alg: key.0,
                    key: key.1,
                });
            }
            (None, None, Some(jwks)) if self.kid.is_none() && self.alg.is_none() => {
                for (j, jwk) in jwks.keys.iter().enumerate() {
                    let kid = jwk.common.key_id.clone();
                    let built = jwk_key(jwk).map_err(|problem| AuthConfigError::Key {
                        at: format!("{at}.jwks.keys[{j}]"),
                        kid: kid.clone(),
                        problem,
                    })?;
                    out.extend(built.map(|(alg, key)| VerifyingKey { kid, alg, key }));
                }
            }
            (None, None, Some(_)) => {
                return Err(fail(&self.kid, KeyProblem::OuterKidOrAlgWithJwks));
            }
            _ => return Err(fail(&self.kid, KeyProblem::KeyMaterial)),
        }
        Ok(())
    }
}

fn parse_alg(name: &str) -> Result<Algorithm, KeyProblem> {
    if name.eq_ignore_ascii_case("none") {
        return Err(KeyProblem::AlgNone);
    }
    name.parse()
        .map_err(|_| KeyProblem::UnknownAlgorithm(name.to_owned()))
}

pub(super) fn family(alg: Algorithm) -> AlgorithmFamily {
    match alg {
        Algorithm::HS256 | Algorithm::HS384 | Algorithm::HS512 => AlgorithmFamily::Hmac,
        Algorithm::ES256 | Algorithm::ES384 => AlgorithmFamily::Ec,
        Algorithm::EdDSA => AlgorithmFamily::Ed,
        Algorithm::RS256
        | Algorithm::RS384
        | Algorithm::RS512
        | Algorithm::PS256
        | Algorithm::PS384
        | Algorithm::PS512 => AlgorithmFamily::Rsa,
    }
}

fn hmac_key(secret: &Secret, alg: Algorithm) -> Result<(Algorithm, DecodingKey), KeyProblem> {
    if family(alg) != AlgorithmFamily::Hmac {
        return Err(KeyProblem::SecretForPublicKeyAlg(alg));
    }
    let bytes = secret.0.expose_secret().as_bytes();
    if bytes.len() < MIN_HMAC_SECRET_BYTES {
        return Err(KeyProblem::SecretTooShort(bytes.len()));
    }
    Ok((alg, DecodingKey::from_secret(bytes)))
}

fn pem_key(pem: &str, alg: Algorithm) -> Result<(Algorithm, DecodingKey), KeyProblem> {
    let key = match family(alg) {
        AlgorithmFamily::Hmac => return Err(KeyProblem::PublicKeyForHmacAlg(alg)),
        AlgorithmFamily::Rsa => DecodingKey::from_rsa_pem(pem.as_bytes()),
        AlgorithmFamily::Ec => DecodingKey::from_ec_pem(pem.as_bytes()),
        AlgorithmFamily::Ed => DecodingKey::from_ed_pem(pem.as_bytes()),
    };
    let key = key.map_err(|_| KeyProblem::BadPem)?;
    fits(&key, alg)?;
    Ok((alg, key))
}

/// `Ok(None)` for encryption keys, which a JWKS may legitimately list next to signing keys.
fn jwk_key(jwk: &Jwk) -> Result<Option<(Algorithm, DecodingKey)>, KeyProblem> {
    let encryption_alg = matches!(
        jwk.common.key_algorithm,
        Some(KeyAlgorithm::RSA1_5 | KeyAlgorithm::RSA_OAEP | KeyAlgorithm::RSA_OAEP_256)
    );
    if jwk.common.public_key_use == Some(PublicKeyUse::Encryption) || encryption_alg {
        return Ok(None);
    }
    let alg = match (jwk.common.key_algorithm, &jwk.algorithm) {
        (_, AlgorithmParameters::OctetKey(_)) => return Err(KeyProblem::HmacInJwks),
        (Some(alg), _) => parse_alg(&alg.to_string())?,
        (None, AlgorithmParameters::RSA(_)) => Algorithm::RS256,
        (None, AlgorithmParameters::EllipticCurve(p)) if p.curve == EllipticCurve::P256 => {
            Algorithm::ES256
        }
        (None, AlgorithmParameters::EllipticCurve(p)) if p.curve == EllipticCurve::P384 => {
            Algorithm::ES384
        }
        (None, AlgorithmParameters::OctetKeyPair(p)) if p.curve == EllipticCurve::Ed25519 => {
            Algorithm::EdDSA
        }
        (None, _) => return Err(KeyProblem::MissingAlgorithm),
    };
    let key = DecodingKey::from_jwk(jwk).map_err(|_| KeyProblem::KeyDoesNotFitAlg(alg))?;
    fits(&key, alg)?;
    Ok(Some((alg, key)))
}

/// Refuses a key of another family (an EC key pinned to RS256) or, for EC and EdDSA, of
/// another curve: building a verifier parses the key.
fn fits(key: &DecodingKey, alg: Algorithm) -> Result<(), KeyProblem> {
    if key.family() != family(alg) || jsonwebtoken::crypto::verify("", b"", key, alg).is_err() {
        return Err(KeyProblem::KeyDoesNotFitAlg(alg));
    }
    Ok(())
}
