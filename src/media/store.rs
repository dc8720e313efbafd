//! Where pictures' bytes live: a folder under the data directory by default, or an
//! S3-compatible bucket (`[media]` in the config file) that every node of a site shares. One
//! API for both (the object_store crate); keys are the same either way:
//! `originals/ID/VERSION.EXT` (kept for processing again, never served) and
//! `pictures/ID/VERSION/NAME` (the variants readers get).

use std::path::Path;
use std::sync::Arc;

use anyhow::Context;
use bytes::Bytes;
use object_store::path::Path as Key;
use object_store::{ObjectStore, ObjectStoreExt, PutPayload};
use serde::Deserialize;

/// `[media]` in the config file.
#[derive(Debug, Default, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MediaConfig {
    /// `"local"` (default: `DATA_DIR/media`) or `"s3"`.
    pub store: Option<String>,
    /// S3: the bucket (it must exist).
    pub bucket: Option<String>,
    /// S3: the endpoint of an S3-compatible server (MinIO, Garage, Ceph, R2 ...); omit for AWS.
    pub endpoint: Option<String>,
    pub region: Option<String>,
    /// S3 credentials; when omitted, `AWS_ACCESS_KEY_ID` and `AWS_SECRET_ACCESS_KEY` are read.
    pub access_key_id: Option<String>,
    pub secret_access_key: Option<String>,
    /// A folder inside the bucket, to share one bucket between sites.
    pub prefix: Option<String>,
}

#[derive(Clone)]
pub struct MediaStore {
    inner: Arc<dyn ObjectStore>,
    prefix: String,
    describe: String,
}

impl std::fmt::Debug for MediaStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.describe)
    }
}

impl MediaStore {
    pub fn open(config: &MediaConfig, data_dir: &Path) -> anyhow::Result<Self> {
        match config.store.as_deref().unwrap_or("local") {
            "local" => Self::local(&super::dir(data_dir).join("library")),
            "s3" => {
                use object_store::aws::AmazonS3Builder;
                crate::websub::install_tls();
                let bucket = config.bucket.as_deref().context("[media] store = \"s3\" needs a bucket")?;
                let mut builder = AmazonS3Builder::from_env().with_bucket_name(bucket);
                if let Some(endpoint) = &config.endpoint {
                    builder = builder
                        .with_endpoint(endpoint)
                        .with_allow_http(endpoint.starts_with("http://"))
                        .with_virtual_hosted_style_request(false);
                }
                builder = builder.with_region(config.region.as_deref().unwrap_or("us-east-1"));
                if let (Some(id), Some(secret)) = (&config.access_key_id, &config.secret_access_key) {
                    builder = builder.with_access_key_id(id).with_secret_access_key(secret);
                }
                let store = builder.build().context("configuring the S3 media store")?;
                Ok(Self {
                    inner: Arc::new(store),
                    prefix: config.prefix.clone().unwrap_or_default().trim_matches('/').to_owned(),
                    describe: format!(
                        "S3 bucket {bucket}{}",
                        config.endpoint.as_deref().map(|e| format!(" at {e}")).unwrap_or_default()
                    ),
                })
            }
            other => anyhow::bail!("[media] store = {other:?}: use \"local\" or \"s3\""),
        }
    }

    pub fn local(dir: &Path) -> anyhow::Result<Self> {
        std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
        let store = object_store::local::LocalFileSystem::new_with_prefix(dir)
            .with_context(|| format!("opening {}", dir.display()))?;
        Ok(Self {
            inner: Arc::new(store),
            prefix: String::new(),
            describe: format!("folder {}", dir.display()),
        })
    }

    pub fn describe(&self) -> &str {
        &self.describe
    }

    fn key(&self, key: &str) -> Key {
        if self.prefix.is_empty() { Key::from(key) } else { Key::from(format!("{}/{key}", self.prefix)) }
    }

    pub async fn put(&self, key: &str, bytes: Vec<u8>) -> anyhow::Result<()> {
        self.inner
            .put(&self.key(key), PutPayload::from(bytes))
            .await
            .with_context(|| format!("storing {key} in the {}", self.describe))?;
        Ok(())
    }

    /// The object's bytes, `None` when there is none.
    pub async fn get(&self, key: &str) -> anyhow::Result<Option<Bytes>> {
        match self.inner.get(&self.key(key)).await {
            Ok(found) => Ok(Some(found.bytes().await.with_context(|| format!("reading {key}"))?)),
            Err(object_store::Error::NotFound { .. }) => Ok(None),
            Err(e) => Err(e).with_context(|| format!("reading {key} from the {}", self.describe)),
        }
    }

    /// Removes one object (gone already is fine).
    pub async fn delete(&self, key: &str) -> anyhow::Result<()> {
        match self.inner.delete(&self.key(key)).await {
            Ok(()) | Err(object_store::Error::NotFound { .. }) => Ok(()),
            Err(e) => Err(e).with_context(|| format!("deleting {key} from the {}", self.describe)),
        }
    }

    /// Removes every object under `prefix` (a picture's files).
    pub async fn delete_all(&self, prefix: &str) -> anyhow::Result<()> {
        use futures_util::StreamExt;
        let prefix = self.key(prefix);
        let keys: Vec<_> = self.inner.list(Some(&prefix)).collect().await;
        for meta in keys {
            let meta = meta.with_context(|| format!("listing {prefix}"))?;
            match self.inner.delete(&meta.location).await {
                Ok(()) | Err(object_store::Error::NotFound { .. }) => {}
                Err(e) => return Err(e).with_context(|| format!("deleting {}", meta.location)),
            }
        }
        Ok(())
    }
}

/// Key of a picture's original.
pub fn original_key(id: i64, version: i64, extension: &str) -> String {
    format!("originals/{id}/{version}.{extension}")
}

/// Key of one of a picture's variants.
pub fn variant_key(id: i64, version: i64, name: &str) -> String {
    format!("pictures/{id}/{version}/{name}")
}
