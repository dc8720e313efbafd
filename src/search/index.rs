//! The node's search index on disk: a tantivy index of published articles under the data
//! directory, with Gazette's own text analysis (folding, stop words, Snowball stems, names) fed
//! to it as pre-tokenized text, so that queries and documents are analysed by one function.
//!
//! Fields: `id`, `published` and `section` (indexed and fast, for filters, freshness and
//! ordering); `headline`, `standfirst` and `body` (stems with positions, for BM25, phrases and
//! prefixes); `features` (every related-posts feature of the article: stems, `n:` names,
//! `t:` tags and `s:` sections, document ids only, for their document frequencies and for
//! gathering candidates); `forward` (stored: the article's strongest features with their counts,
//! its headline's and its lede's stems, which related lists score candidates with).
//!
//! It is derived data: built from the store and kept current from the content event log; the
//! commit's payload records the newest event taken in and the format, so a node restarts on it
//! in milliseconds and rebuilds it when it is missing, damaged or of another format.

use std::collections::HashMap;

use tantivy::schema::{
    FAST, Field, INDEXED, IndexRecordOption, STORED, Schema, TextFieldIndexing, TextOptions,
};
use tantivy::tokenizer::{PreTokenizedString, Token};
use tantivy::{TantivyDocument, Term};

use super::text;

/// Bumped whenever the schema or the analysis changes: an index of another format is rebuilt.
pub const FORMAT: u32 = 2;
/// Words of standfirst and body that make an article's lede: what a report says first (who,
/// what, where, when), which reports of one event share and pieces on one topic do not.
pub const LEDE_WORDS: usize = 120;
/// Features kept in an article's forward record for related posts.
pub const VECTOR_FEATURES: usize = 200;

/// What the index needs of an article.
#[derive(Debug, Clone, Default)]
pub struct Source {
    pub article_id: i64,
    pub published_at: i64,
    pub headline: String,
    pub standfirst: String,
    pub body: String,
    pub section_ids: Vec<i64>,
    pub section_slugs: Vec<String>,
    pub tag_slugs: Vec<String>,
}

/// One part of a query: all its terms must appear (a phrase's in order, at the given offsets:
/// stop words between them keep their places), or any of a prefix's words.
#[derive(Debug, Clone, PartialEq)]
pub enum Clause {
    Term(String),
    Phrase(Vec<(usize, String)>),
    Prefix(String),
}

/// A match: the article, when it was published, and its score.
#[derive(Debug, Clone, Copy)]
pub struct Hit {
    pub article_id: i64,
    pub published_at: i64,
    pub score: f32,
}

/// The schema's fields.
#[derive(Clone, Copy)]
pub struct Fields {
    pub id: Field,
    pub published: Field,
    pub section: Field,
    pub headline: Field,
    pub standfirst: Field,
    pub body: Field,
    pub features: Field,
    pub forward: Field,
}

impl Fields {
    pub fn schema() -> (Schema, Fields) {
        let mut b = Schema::builder();
        let positions = TextOptions::default().set_indexing_options(
            TextFieldIndexing::default()
                .set_tokenizer("raw")
                .set_index_option(IndexRecordOption::WithFreqsAndPositions),
        );
        // Document ids only, with the number of features per document: gathering candidates
        // by BM25 over them, a long page that holds many of an article's features by sheer
        // length does not crowd out the short report of the same event.
        let doc_ids = TextOptions::default().set_indexing_options(
            TextFieldIndexing::default()
                .set_tokenizer("raw")
                .set_index_option(IndexRecordOption::Basic)
                .set_fieldnorms(true),
        );
        let fields = Fields {
            id: b.add_u64_field("id", INDEXED | FAST),
            published: b.add_i64_field("published", INDEXED | FAST),
            section: b.add_u64_field("section", INDEXED),
            headline: b.add_text_field("headline", positions.clone()),
            standfirst: b.add_text_field("standfirst", positions.clone()),
            body: b.add_text_field("body", positions),
            features: b.add_text_field("features", doc_ids),
            forward: b.add_bytes_field("forward", STORED),
        };
        (b.build(), fields)
    }

    /// The term that names an article (for deletes and lookups).
    pub fn id_term(&self, article_id: i64) -> Term {
        Term::from_field_u64(self.id, article_id as u64)
    }
}

/// An article's text analysed once: the tokens of each field and its related-posts features.
pub struct Analysed {
    fields: [Vec<Token>; 3],
    /// Feature -> count weight (headline words ×3, standfirst ×2, body ×1, names ×2 a mention,
    /// tags ×4, sections ×1).
    pub features: HashMap<String, f32>,
    pub headline: HashMap<String, f32>,
    pub lede: HashMap<String, f32>,
}

/// The stems of a text with their positions (every word takes a place, stop words too, so a
/// phrase matches only where its words stand as they were typed).
pub fn positioned_terms(text: &str) -> Vec<(usize, String)> {
    text::words(text).enumerate().filter_map(|(pos, w)| Some((pos, text::term(w)?))).collect()
}

pub fn analyse(src: &Source) -> Analysed {
    let mut features: HashMap<String, f32> = HashMap::new();
    let mut headline: HashMap<String, f32> = HashMap::new();
    let mut lede: HashMap<String, f32> = HashMap::new();
    let mut lede_len = 0;
    let mut fields: [Vec<Token>; 3] = Default::default();
    for (field, body) in [&src.headline, &src.standfirst, &src.body].into_iter().enumerate() {
        for (pos, stem) in text::words(body).enumerate().filter_map(|(p, w)| Some((p, text::term(w)?))) {
            *features.entry(stem.clone()).or_default() += [3.0, 2.0, 1.0][field];
            if field == 0 {
                *headline.entry(stem.clone()).or_default() += 1.0;
            } else if lede_len < LEDE_WORDS {
                lede_len += 1;
                *lede.entry(stem.clone()).or_default() += 1.0;
            }
            fields[field].push(Token {
                offset_from: 0,
                offset_to: 0,
                position: pos,
                text: stem,
                position_length: 1,
            });
        }
    }
    for name in text::names(&format!("{}. {}. {}", src.headline, src.standfirst, src.body)) {
        *features.entry(format!("n:{name}")).or_default() += 2.0;
    }
    for tag in &src.tag_slugs {
        *features.entry(format!("t:{tag}")).or_default() += 4.0;
    }
    for section in &src.section_slugs {
        *features.entry(format!("s:{section}")).or_default() += 1.0;
    }
    Analysed { fields, features, headline, lede }
}

fn pre_tokenized(tokens: Vec<Token>) -> PreTokenizedString {
    PreTokenizedString { text: String::new(), tokens }
}

/// The document for an article. `idf` weighs its features to choose the strongest for the
/// forward record (the weights themselves are computed when lists are, with the index's
/// frequencies of that moment).
pub fn document(
    fields: &Fields,
    src: &Source,
    analysed: Analysed,
    idf: impl Fn(&str) -> f32,
) -> TantivyDocument {
    let mut doc = TantivyDocument::default();
    doc.add_u64(fields.id, src.article_id as u64);
    doc.add_i64(fields.published, src.published_at);
    for &s in &src.section_ids {
        doc.add_u64(fields.section, s as u64);
    }
    let Analysed { fields: [head, stand, body], features, headline, lede } = analysed;
    doc.add_pre_tokenized_text(fields.headline, pre_tokenized(head));
    doc.add_pre_tokenized_text(fields.standfirst, pre_tokenized(stand));
    doc.add_pre_tokenized_text(fields.body, pre_tokenized(body));
    let mut all: Vec<(String, f32)> = features.into_iter().collect();
    all.sort_unstable_by(|a, b| a.0.cmp(&b.0));
    doc.add_pre_tokenized_text(
        fields.features,
        pre_tokenized(
            all.iter()
                .enumerate()
                .map(|(i, (f, _))| Token {
                    offset_from: 0,
                    offset_to: 0,
                    position: i,
                    text: f.clone(),
                    position_length: 1,
                })
                .collect(),
        ),
    );
    if all.len() > VECTOR_FEATURES {
        let weight = |(f, c): &(String, f32)| (1.0 + c.ln()) * idf(f);
        all.select_nth_unstable_by(VECTOR_FEATURES, |a, b| {
            weight(b).total_cmp(&weight(a)).then(a.0.cmp(&b.0))
        });
        all.truncate(VECTOR_FEATURES);
    }
    let forward =
        Forward { whole: all, headline: headline.into_iter().collect(), lede: lede.into_iter().collect() };
    doc.add_bytes(fields.forward, &forward.encode());
    doc
}

/// An article's forward record: its strongest features, its headline's and its lede's stems,
/// each with its count weight.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct Forward {
    pub whole: Vec<(String, f32)>,
    pub headline: Vec<(String, f32)>,
    pub lede: Vec<(String, f32)>,
}

impl Forward {
    pub fn encode(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(2_048);
        for list in [&self.whole, &self.headline, &self.lede] {
            let list: Vec<&(String, f32)> =
                list.iter().filter(|(f, _)| f.len() <= 255).take(u16::MAX.into()).collect();
            out.extend_from_slice(&(list.len() as u16).to_le_bytes());
            for (f, w) in list {
                out.push(f.len() as u8);
                out.extend_from_slice(f.as_bytes());
                out.extend_from_slice(&w.to_le_bytes());
            }
        }
        out
    }

    /// The three lists borrowed from the bytes (`None` for bytes that are not a record).
    pub fn decode_ref(bytes: &[u8]) -> Option<[Vec<(&str, f32)>; 3]> {
        let mut at = 0;
        let mut take = |n: usize| -> Option<&[u8]> {
            let part = bytes.get(at..at + n)?;
            at += n;
            Some(part)
        };
        let mut lists: [Vec<(&str, f32)>; 3] = Default::default();
        for list in &mut lists {
            let n = u16::from_le_bytes(take(2)?.try_into().ok()?);
            list.reserve(n.into());
            for _ in 0..n {
                let len = take(1)?[0] as usize;
                let f = std::str::from_utf8(take(len)?).ok()?;
                let w = f32::from_le_bytes(take(4)?.try_into().ok()?);
                list.push((f, w));
            }
        }
        Some(lists)
    }

    /// `None` for bytes that are not a record (a damaged index is rebuilt, never trusted).
    pub fn decode(bytes: &[u8]) -> Option<Forward> {
        let owned = |list: Vec<(&str, f32)>| list.into_iter().map(|(f, w)| (f.to_owned(), w)).collect();
        let [whole, headline, lede] = Self::decode_ref(bytes)?;
        Some(Forward { whole: owned(whole), headline: owned(headline), lede: owned(lede) })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn forward_records_read_back_and_damage_is_refused() {
        let f = Forward {
            whole: vec![("harbour".into(), 4.0), ("n:ruth amadi".into(), 2.0)],
            headline: vec![("harbour".into(), 1.0)],
            lede: vec![],
        };
        let bytes = f.encode();
        assert_eq!(Forward::decode(&bytes), Some(f));
        assert_eq!(Forward::decode(&bytes[..bytes.len() - 1]), None);
    }

    #[test]
    fn phrases_keep_the_places_of_stop_words() {
        assert_eq!(
            positioned_terms("Bank of England"),
            vec![(0, "bank".to_owned()), (2, "england".to_owned())]
        );
    }
}
