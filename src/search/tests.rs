//! The engine on small in-memory archives.

use super::*;
use index::Source;

const DAY: i64 = 86_400;

fn engine(articles: &[(i64, i64, &str, &str)]) -> Engine {
    let fillers = [
        "Council budget vote delayed again",
        "Schools reopen after the winter break",
        "Museum opens a gallery of maps",
        "Rail fares rise in the spring",
        "Library extends its opening hours",
        "Farmers count the cost of the dry summer",
    ];
    let mut sources: Vec<Source> = fillers
        .iter()
        .enumerate()
        .map(|(i, f)| Source {
            article_id: 1_000 + i as i64,
            published_at: 400 * DAY,
            headline: (*f).to_owned(),
            body: format!("{f}. Residents and officials spoke about plans for the year ahead."),
            ..Default::default()
        })
        .collect();
    for &(id, day, headline, body) in articles {
        sources.push(Source {
            article_id: id,
            published_at: day * DAY,
            headline: headline.to_owned(),
            body: body.to_owned(),
            ..Default::default()
        });
    }
    Engine::with_sources(&sources)
}

/// An article as lists see it.
fn doc(e: &Engine, id: i64) -> related::Doc {
    let searcher = e.searcher().unwrap();
    e.load(&searcher, e.address(&searcher, id).unwrap()).unwrap()
}

fn ids(list: &[(i64, f32)]) -> Vec<i64> {
    list.iter().map(|(id, _)| *id).collect()
}

#[test]
fn the_same_text_again_is_left_out_and_a_rewrite_stays() {
    let body = "The tanker Marisol ran aground on the sandbar off Port Calder before dawn. \
                Coastguard crews pumped fuel from its tanks while the harbour stayed shut. \
                Pilots said the channel markers had drifted in the storm.";
    let rewrite = "The tanker Marisol ran aground on the sandbar off Port Calder before dawn. \
                   Coastguard crews pumped fuel from its tanks while the harbour stayed shut. \
                   Pilots said the channel markers had drifted during last week's storm.";
    let e = engine(&[
        (1, 100, "Tanker aground off Port Calder", body),
        (2, 100, "Tanker aground off Port Calder", body),
        (3, 101, "Tanker aground off Port Calder", rewrite),
    ]);
    let scored = e.related(1, &[], &[]);
    let related = ids(&scored);
    assert!(!related.contains(&2), "a word-for-word copy is not related reading: {related:?}");
    assert_eq!(related.first(), Some(&3), "another outlet's rewrite of the report is: {related:?}");
}

#[test]
fn headlines_that_name_the_same_event_count() {
    let storm = "Gales shut the bridge to traffic at noon. Engineers will inspect the cables \
                 and the towers, and the council will meet on Friday about the repairs. \
                 Commuters queued for buses along the quay; schools sent pupils home early; \
                 shopkeepers boarded windows; fishermen hauled boats onto the slipway; \
                 forecasters expect the wind to ease by Sunday evening.";
    let (first, second) = storm.split_at(storm.find("Commuters").unwrap());
    let e = engine(&[
        (1, 100, "Storm closes the old bridge", storm),
        (2, 100, "Old bridge closed by storm", second),
        // As much of the text, under another headline.
        (3, 100, "Ferry timetable changes", first),
    ]);
    let related = e.related(1, &[], &[]);
    assert_eq!(ids(&related).first(), Some(&2), "{related:?}");
}

#[test]
fn a_lede_that_tells_the_same_event_is_measured() {
    // Two reports open with the same event; a third piece shares the first one's long
    // background on the topic but opens with another event.
    let event = "The tanker Marisol ran aground on the sandbar off Port Calder before dawn on \
                 Tuesday, and coastguard crews pumped fuel from its tanks. ";
    let other = "The council approved a new budget for the harbour on Monday after a long \
                 debate about the cost of ferry services. ";
    let background = "Dredging, silt, tides, channel depth, quay repairs, pilot rotas, \
                      berth fees, crane upkeep, mooring chains, buoy lamps, slipway \
                      concrete, warehouse leases, container stacks, tug contracts, \
                      lighthouse wiring, fish market stalls, customs sheds, gantry \
                      rails, bollard paint, fender timber, drainage culverts and \
                      timetables have divided the board for years. ";
    let first = format!("{}{}", event.repeat(6), background.repeat(8));
    let second = format!("{}{}", event.repeat(6), "Divers inspected the hull at noon. ".repeat(4));
    let third = format!("{}{}", other.repeat(6), background.repeat(8));
    let e = engine(&[
        (1, 100, "Port Calder news", &first),
        (2, 100, "Port Calder report", &second),
        (3, 100, "Port Calder report", &third),
    ]);
    let (one, two, three) = (doc(&e, 1), doc(&e, 2), doc(&e, 3));
    assert!(
        related::cosine(&one.whole, &three.whole) > related::cosine(&one.whole, &two.whole),
        "the background weighs more in the whole text"
    );
    // The lede tells them apart; how much that weighs against the whole text is the
    // model's, fitted on labelled corpora (model.rs).
    let pool = e.pool(1);
    let lede = model::NAMES.iter().position(|n| *n == "lede").unwrap();
    let of = |id: i64| pool.iter().find(|(d, _)| *d == id).map(|(_, x)| x[lede]).unwrap();
    assert!(of(2) > 2.0 * of(3), "lede likeness of 2: {}, of 3: {}", of(2), of(3));
}

#[test]
fn pieces_that_the_nearest_vouch_for_come_first() {
    let e = engine(&[
        (1, 100, "Lifeboat crew rescue yacht sailors", "The crew brought four sailors ashore."),
        (2, 100, "Yacht sailors rescued by lifeboat", "Four sailors were brought ashore."),
        (3, 100, "Lifeboat station opens to visitors", "Visitors toured the station."),
        (4, 100, "Sailors thank the lifeboat crew", "The sailors thanked their rescuers."),
        (5, 100, "Yacht sailors thank lifeboat", "Four yacht sailors brought ashore thank the crew."),
    ]);
    // 2 is like the article's other nearest pieces (4 and 5); 3 shares as many words with
    // the article but is far from them.
    let pool = e.pool(1);
    let support = model::NAMES.iter().position(|n| *n == "support").unwrap();
    let of = |id: i64| pool.iter().find(|(d, _)| *d == id).map(|(_, x)| x[support]).unwrap();
    assert!(of(2) > of(3), "support of 2: {}, of 3: {}", of(2), of(3));
}

#[test]
fn a_headline_that_says_just_the_query_comes_first() {
    let e = engine(&[
        (1, 100, "Silverman and Sheen split", "The couple announced it on Friday."),
        (
            2,
            110,
            "Silverman and Sheen split after four years together",
            "Silverman and Sheen split, their spokesman said; Silverman and Sheen met in 2014.",
        ),
    ]);
    let query = Query::parse("Silverman and Sheen split");
    let hits = e.search(&query, &Filter::default(), Sort::Best, 110 * DAY, 10).hits;
    let order: Vec<i64> = hits.iter().map(|h| h.article_id).collect();
    assert_eq!(order, vec![1, 2], "{hits:?}");
}

impl Engine {
    /// An engine over the given articles, in memory.
    fn with_sources(sources: &[index::Source]) -> Self {
        let engine = Self::in_memory();
        let index = tantivy::Index::create_in_ram(engine.schema.clone());
        let live = engine.live_of(&index, None, 1, 15_000_000).expect("an index writer");
        {
            let mut writer = live.writer.lock().expect("the writer");
            for s in sources {
                writer
                    .add_document(index::document(&engine.fields, s, index::analyse(s), |_| 1.0))
                    .expect("a document");
            }
            writer.commit().expect("a commit");
        }
        live.reader.reload().expect("a reload");
        engine.install(live, 0);
        engine
    }
}
