//! The picture library: uploads checked and refused with a message, metadata stripped,
//! pictures turned upright and processed by jobs that resume, and pages drawn with <picture>.

use std::time::Duration;

use gazette::domain::Role;

use crate::admin::{Browser, PASSWORD, staff};
use crate::helpers::TestApp;
use crate::on_both_stores;

/// Waits until picture `id`'s job is done and this node has taken in its event: pages leave
/// a picture out until then.
pub async fn ready(app: &TestApp, id: i64) {
    for _ in 0..600 {
        if gazette::storage::pictures::get(&app.db, id).await.unwrap().is_some_and(|p| p.state == "ready") {
            app.refresh().await;
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("picture {id} was not ready within a minute");
}

/// Waits until every picture's job is done, then takes in their events.
pub async fn all_ready(app: &TestApp) {
    for _ in 0..600 {
        if gazette::storage::pictures::pending(&app.db).await.unwrap() == 0 {
            app.refresh().await;
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("pictures were not processed within a minute");
}

/// Waits until a picture's variant has been made (the job runs in the background).
pub async fn processed(app: &TestApp, url: &str) -> reqwest::Response {
    for _ in 0..600 {
        let r = app.get(url).await;
        match r.status().as_u16() {
            200 => return r,
            503 => tokio::time::sleep(Duration::from_millis(100)).await,
            other => panic!("{url} answered {other}"),
        }
    }
    let states: Vec<_> = gazette::storage::pictures::all(&app.db)
        .await
        .unwrap()
        .into_iter()
        .map(|p| (p.id, p.version, p.state, p.error))
        .collect();
    panic!("{url} was not processed within a minute: {states:?}");
}

const SERIAL: &str = "SN-4471-COURIER-CAM";

/// A JPEG as a camera writes it: EXIF with an orientation (6: turn 90 degrees clockwise), a
/// GPS position and the camera's serial number, plus XMP and IPTC blocks.
fn camera_jpeg(width: u32, height: u32) -> Vec<u8> {
    let img = image::RgbImage::from_fn(width, height, |x, y| {
        // Top-left quarter red, the rest blue: shows which way is up after turning.
        if x < width / 2 && y < height / 2 { image::Rgb([220, 30, 30]) } else { image::Rgb([30, 30, 220]) }
    });
    let mut plain = Vec::new();
    image::codecs::jpeg::JpegEncoder::new_with_quality(&mut plain, 90)
        .encode(img.as_raw(), width, height, image::ExtendedColorType::Rgb8)
        .unwrap();
    // TIFF, little-endian: IFD0 (orientation, Exif and GPS pointers), the Exif IFD (serial
    // number), the GPS IFD (latitude).
    let mut t: Vec<u8> = b"II*\0".to_vec();
    t.extend(8u32.to_le_bytes());
    let entry = |t: &mut Vec<u8>, tag: u16, kind: u16, count: u32, value: u32| {
        t.extend(tag.to_le_bytes());
        t.extend(kind.to_le_bytes());
        t.extend(count.to_le_bytes());
        t.extend(value.to_le_bytes());
    };
    // IFD0 at 8: 3 entries (2 + 36 + 4 bytes) = 42 bytes, so the Exif IFD starts at 50.
    let exif_ifd = 50u32;
    // Exif IFD: 1 entry = 18 bytes, then the serial (20 bytes with its NUL) at 68.
    let serial_at = exif_ifd + 18;
    let gps_ifd = serial_at + 20;
    t.extend(3u16.to_le_bytes());
    entry(&mut t, 0x0112, 3, 1, 6);
    entry(&mut t, 0x8769, 4, 1, exif_ifd);
    entry(&mut t, 0x8825, 4, 1, gps_ifd);
    t.extend(0u32.to_le_bytes());
    assert_eq!(t.len() as u32, exif_ifd);
    t.extend(1u16.to_le_bytes());
    entry(&mut t, 0xA431, 2, SERIAL.len() as u32 + 1, serial_at);
    t.extend(0u32.to_le_bytes());
    t.extend(SERIAL.as_bytes());
    t.push(0);
    assert_eq!(t.len() as u32, gps_ifd);
    // GPS IFD: latitude reference "N" inline, latitude as three rationals after the IFD.
    let rationals = gps_ifd + 2 + 24 + 4;
    t.extend(2u16.to_le_bytes());
    entry(&mut t, 0x0001, 2, 2, u32::from_le_bytes([b'N', 0, 0, 0]));
    entry(&mut t, 0x0002, 5, 3, rationals);
    t.extend(0u32.to_le_bytes());
    for (n, d) in [(57u32, 1u32), (29, 1), (1234, 100)] {
        t.extend(n.to_le_bytes());
        t.extend(d.to_le_bytes());
    }
    let segment = |marker: u8, payload: &[u8]| {
        let mut s = vec![0xFF, marker];
        s.extend(((payload.len() + 2) as u16).to_be_bytes());
        s.extend(payload);
        s
    };
    let exif = segment(0xE1, &[&b"Exif\0\0"[..], &t].concat());
    let xmp = segment(
        0xE1,
        format!(
            "http://ns.adobe.com/xap/1.0/\0<x:xmpmeta xmlns:x=\"adobe:ns:meta/\"><rdf:RDF><rdf:Description \
             exif:GPSLatitude=\"57,29.12N\" aux:SerialNumber=\"{SERIAL}\"/></rdf:RDF></x:xmpmeta>"
        )
        .as_bytes(),
    );
    let iptc = segment(0xED, b"Photoshop 3.0\08BIM\x04\x04\0\0\0\0\0\x0c\x1c\x02\x50\0\x08Reporter");
    // SOI, the three blocks, then the rest of the plain JPEG (after its own SOI).
    [&plain[..2], &exif, &xmp, &iptc, &plain[2..]].concat()
}

fn png(width: u32, height: u32) -> Vec<u8> {
    let img =
        image::RgbaImage::from_fn(width, height, |x, _| image::Rgba([10, 120, 200, (x * 255 / width) as u8]));
    let mut out = std::io::Cursor::new(Vec::new());
    img.write_to(&mut out, image::ImageFormat::Png).unwrap();
    out.into_inner()
}

/// A PNG whose header claims `width` x `height` (a decompression bomb's shape).
fn png_claiming(width: u32, height: u32) -> Vec<u8> {
    let mut bytes = png(8, 8);
    // IHDR's data starts at 16: width, height; its CRC covers the type and data (12..29).
    bytes[16..20].copy_from_slice(&width.to_be_bytes());
    bytes[20..24].copy_from_slice(&height.to_be_bytes());
    let crc = crc32fast::hash(&bytes[12..29]);
    bytes[29..33].copy_from_slice(&crc.to_be_bytes());
    bytes
}

async fn upload(b: &Browser<'_>, files: Vec<(&str, Vec<u8>)>) -> (u16, String) {
    let csrf = {
        let r = b
            .app
            .client
            .get(format!("{}/admin/media", b.app.base))
            .header("cookie", b.cookie_header())
            .send()
            .await
            .unwrap();
        crate::admin::field(&r.text().await.unwrap(), "_csrf")
    };
    let mut form = reqwest::multipart::Form::new().text("_csrf", csrf).text("credit", "Courier staff");
    for (name, bytes) in files {
        form = form.part("files", reqwest::multipart::Part::bytes(bytes).file_name(name.to_owned()));
    }
    let r = b
        .app
        .client
        .post(format!("{}/admin/media", b.app.base))
        .header("cookie", b.cookie_header())
        .multipart(form)
        .send()
        .await
        .unwrap();
    (r.status().as_u16(), r.text().await.unwrap())
}

async fn library_size(app: &TestApp) -> usize {
    gazette::storage::pictures::all(&app.db).await.unwrap().len()
}

on_both_stores!(hostile_and_broken_files_are_refused_with_a_message_and_nothing_is_kept);

async fn hostile_and_broken_files_are_refused_with_a_message_and_nothing_is_kept(app: TestApp) {
    staff(&app, "ed@example.com", "Ed Itor", Role::Editor).await;
    let mut b = Browser::new(&app);
    b.sign_in("ed@example.com", PASSWORD).await;
    let good = camera_jpeg(64, 48);
    let mut truncated = good.clone();
    truncated.truncate(good.len() / 2);
    let mut zip_polyglot = good.clone();
    zip_polyglot.extend(b"PK\x05\x06\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0");
    let mut html_polyglot = good.clone();
    html_polyglot.extend(b"<html><script>alert(document.cookie)</script></html>");
    let mut huge = good.clone();
    huge.resize(41 * 1024 * 1024, 0);
    let cases: Vec<(&str, Vec<u8>, &str)> = vec![
        ("bomb.png", png_claiming(60_000, 60_000), "60000 x 60000 pixels"),
        ("tall.png", png_claiming(100, 30_000), "100 x 30000 pixels"),
        ("cut.jpg", truncated, "could not be read"),
        (
            "drawing.svg",
            b"<svg xmlns=\"http://www.w3.org/2000/svg\" onload=\"alert(1)\"/>".to_vec(),
            "SVG files are refused",
        ),
        ("holiday.jpg", zip_polyglot, "a ZIP archive"),
        ("page.jpg", html_polyglot, "an HTML document"),
        ("photo.png", good.clone(), "rename it to .jpg"),
        ("report.html", good.clone(), "rename it to .jpg"),
        ("notes.txt", b"just some words".to_vec(), "Only JPEG, PNG, GIF and WebP"),
        ("empty.jpg", Vec::new(), "The file is empty"),
    ];
    for (name, bytes, message) in cases {
        let (status, page) = upload(&b, vec![(name, bytes)]).await;
        assert_eq!(status, 422, "{name}");
        assert!(page.contains(message), "{name}: expected {message:?} in the answer");
        assert!(page.contains(&format!("<strong>{name}</strong>")), "{name}: the refused file is named");
    }
    // Over the per-file limit: refused by the server before or while reading the body.
    let (status, page) = upload(&b, vec![("big.jpg", huge)]).await;
    assert!(status == 422 && page.contains("the limit is 40 MB") || status == 413, "{status}");
    assert_eq!(library_size(&app).await, 0, "nothing refused was kept");

    // One bad file among good ones stops only itself.
    let (status, page) = upload(
        &b,
        vec![("harbour.jpg", good), ("drawing.svg", b"<svg/>".to_vec()), ("logo.png", png(40, 20))],
    )
    .await;
    assert_eq!(status, 422);
    assert!(
        page.contains("<strong>harbour.jpg</strong> added")
            && page.contains("<strong>logo.png</strong> added")
    );
    assert_eq!(library_size(&app).await, 2);
    assert_eq!(app.get("/").await.status(), 200, "the server is up");
}

on_both_stores!(a_camera_picture_loses_its_metadata_and_is_turned_upright);

async fn a_camera_picture_loses_its_metadata_and_is_turned_upright(app: TestApp) {
    staff(&app, "ed@example.com", "Ed Itor", Role::Editor).await;
    let mut b = Browser::new(&app);
    b.sign_in("ed@example.com", PASSWORD).await;
    let original = camera_jpeg(1000, 600);
    assert!(original.windows(SERIAL.len()).any(|w| w == SERIAL.as_bytes()));
    let (status, page) = upload(&b, vec![("IMG_0042.JPG", original)]).await;
    assert_eq!(status, 200, "{page}");
    let pictures = gazette::storage::pictures::all(&app.db).await.unwrap();
    let p = &pictures[0];
    // Orientation 6: the 1000 x 600 sensor image stands 600 x 1000.
    assert_eq!((p.width, p.height, p.credit.as_str()), (600, 1000, "Courier staff"));
    let id = p.id;
    let mut names: Vec<String> = Vec::new();
    for w in [320, 600] {
        for ext in ["avif", "webp", "jpg"] {
            names.push(format!("{w}.{ext}"));
        }
    }
    names.extend(["16x9.jpg", "4x3.jpg", "1x1.jpg"].map(str::to_owned));
    for name in &names {
        let r = processed(&app, &format!("/media/{id}/1/{name}")).await;
        assert_eq!(r.headers()["cache-control"], "public, max-age=31536000, immutable");
        let bytes = r.bytes().await.unwrap();
        for needle in
            [SERIAL.as_bytes(), b"Exif", b"http://ns.adobe.com/xap", b"Photoshop 3.0", b"GPS", b"8BIM"]
        {
            assert!(
                !bytes.windows(needle.len()).any(|w| w == needle),
                "{name} carries {:?}",
                String::from_utf8_lossy(needle)
            );
        }
        if name.ends_with(".jpg") && !name.contains('x') {
            let img = image::load_from_memory(&bytes).unwrap().to_rgb8();
            let w: u32 = name.split('.').next().unwrap().parse().unwrap();
            assert_eq!((img.width(), img.height()), (w, w * 1000 / 600));
            // Turned clockwise, the red top-left corner of the sensor image is now top-right.
            let top_right = img.get_pixel(img.width() - 5, 5);
            let top_left = img.get_pixel(5, 5);
            assert!(top_right[0] > 150 && top_right[2] < 100, "{name}: top right is {top_right:?}");
            assert!(top_left[2] > 150, "{name}: top left is {top_left:?}");
        }
    }
    let crop = image::load_from_memory(
        &processed(&app, &format!("/media/{id}/1/16x9.jpg")).await.bytes().await.unwrap(),
    )
    .unwrap();
    assert_eq!((crop.width(), crop.height()), (600, 337));
    // No address serves the original; the library address leads to a processed variant.
    let to = app.redirect(&format!("/media/{id}"), 302).await;
    assert_eq!(to, format!("/media/{id}/1/600.jpg"));
    app.page(&format!("/media/{id}/1/original.jpg"), 404).await;
    app.page(&format!("/media/{id}/1/..%2F..%2Fgazette.db"), 404).await;
}

on_both_stores!(pictures_are_described_used_replaced_and_deleted_only_when_unused);

async fn pictures_are_described_used_replaced_and_deleted_only_when_unused(app: TestApp) {
    staff(&app, "ed@example.com", "Ed Itor", Role::Editor).await;
    let mut b = Browser::new(&app);
    b.sign_in("ed@example.com", PASSWORD).await;
    upload(&b, vec![("quay.jpg", camera_jpeg(800, 500))]).await;
    let id = gazette::storage::pictures::all(&app.db).await.unwrap()[0].id;
    let csrf = b.csrf().await;
    let library = b.get("/admin/media?q=quay").await.1;
    assert!(library.contains("no alt text"), "a picture without alt text is flagged");
    let r = b
        .post(
            &format!("/admin/media/{id}"),
            &[
                ("_csrf", &csrf),
                ("alt", "Fishing boats moored at the north quay"),
                ("caption", "The fleet stayed in port."),
                ("credit", "Ann Photo"),
                ("focus_x", "80"),
                ("focus_y", "40"),
            ],
        )
        .await;
    assert_eq!(r.status(), 200);
    assert!(
        b.get("/admin/media?q=fishing").await.1.contains(&format!("/admin/media/{id}")),
        "search finds the alt text"
    );
    assert!(!b.get("/admin/media?q=nothing-like-it").await.1.contains(&format!("/admin/media/{id}")));

    // Chosen as an article's picture from the library.
    let r = b
        .post(
            "/admin/articles/new",
            &crate::admin::article_form(&csrf, "Fleet stays in port", "published", "0"),
        )
        .await;
    let path = r.headers()["location"].to_str().unwrap().split('?').next().unwrap().to_owned();
    let form = reqwest::multipart::Form::new().text("_csrf", csrf.clone()).text("picture", id.to_string());
    let r = app
        .client
        .post(format!("{}{path}/image", app.base))
        .header("cookie", b.cookie_header())
        .multipart(form)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 303);
    ready(&app, id).await;
    let home = app.page("/", 200).await;
    let link =
        crate::helpers::hrefs(&home).into_iter().find(|h| h.ends_with("/fleet-stays-in-port/")).unwrap();
    let page = app.page(&link, 200).await;
    assert!(page.contains("alt=\"Fishing boats moored at the north quay\""), "the library's alt text");
    assert!(page.contains("The fleet stayed in port.") && page.contains("Ann Photo"));
    // Upright (the camera's orientation applied): 500 x 800.
    assert!(page.contains("fetchpriority=\"high\"") && page.contains("width=\"500\" height=\"800\""));
    assert!(page.contains(&format!("/media/{id}/1/16x9.jpg")), "og:image is the 16:9 crop");
    assert!(home.contains(&format!("/media/{id}/1/320.avif 320w")), "the front page card has the picture");

    // In use: not deleted.
    let (_, show) = b.get(&format!("/admin/media/{id}")).await;
    assert!(show.contains("Fleet stays in port"), "its uses are listed");
    let r = b.post(&format!("/admin/media/{id}"), &[("_csrf", &csrf), ("delete", "1")]).await;
    assert_eq!(r.status(), 422);
    assert!(r.text().await.unwrap().contains("in use"));

    // Replaced: a new version, and the article page follows.
    let form = reqwest::multipart::Form::new()
        .text("_csrf", csrf.clone())
        .part("file", reqwest::multipart::Part::bytes(png(300, 200)).file_name("quay-new.png"));
    let r = app
        .client
        .post(format!("{}/admin/media/{id}/replace", app.base))
        .header("cookie", b.cookie_header())
        .multipart(form)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    ready(&app, id).await;
    let page = app.page(&link, 200).await;
    assert!(page.contains(&format!("/media/{id}/2/300.png 300w")), "the page names the new version");
    assert!(!page.contains(&format!("/media/{id}/1/")), "and no file of the old one");
    assert!(page.contains("alt=\"Fishing boats moored at the north quay\""), "the description stays");
    processed(&app, &format!("/media/{id}/2/300.avif")).await;

    // Unused once the article lets it go: deleted, with its files.
    let form = reqwest::multipart::Form::new().text("_csrf", csrf.clone()).text("remove", "1");
    app.client
        .post(format!("{}{path}/image", app.base))
        .header("cookie", b.cookie_header())
        .multipart(form)
        .send()
        .await
        .unwrap();
    let r = b.post(&format!("/admin/media/{id}"), &[("_csrf", &csrf), ("delete", "1")]).await;
    assert_eq!(r.status(), 303);
    assert_eq!(library_size(&app).await, 0);
    app.refresh().await;
    app.page(&format!("/media/{id}/2/300.avif"), 404).await;
}

on_both_stores!(a_job_left_by_a_stopped_node_is_taken_up_again);

async fn a_job_left_by_a_stopped_node_is_taken_up_again(app: TestApp) {
    use gazette::storage::pictures;
    app.load_demo().await;
    let store = gazette::media::store::MediaStore::open(&app.config.media, &app.config.data_dir).unwrap();
    // Claimed by a node that then stopped: its lease runs out in a second.
    let id =
        gazette::media::library::add(&app.db, &store, &png(50, 40), "left.png", &Default::default(), None)
            .await
            .unwrap();
    // (Unless this node's own worker took it first: then there is nothing to resume.)
    if let Some(job) = pictures::claim(&app.db, "a-node-that-stopped", 1).await.unwrap() {
        assert_eq!(job.picture_id, id);
        // Nobody else may take it while the lease holds.
        assert!(pictures::claim(&app.db, "another", 60).await.unwrap().is_none());
    }
    processed(&app, &format!("/media/{id}/1/50.png")).await;
    for _ in 0..50 {
        if pictures::get(&app.db, id).await.unwrap().unwrap().state == "ready" {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(pictures::get(&app.db, id).await.unwrap().unwrap().state, "ready");
    assert_eq!(pictures::pending(&app.db).await.unwrap(), 0);
}

on_both_stores!(a_folder_of_pictures_is_imported_once);

async fn a_folder_of_pictures_is_imported_once(app: TestApp) {
    let store = gazette::media::store::MediaStore::open(&app.config.media, &app.config.data_dir).unwrap();
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("2026")).unwrap();
    std::fs::write(dir.path().join("quay.jpg"), camera_jpeg(64, 48)).unwrap();
    std::fs::write(dir.path().join("2026/logo.png"), png(30, 20)).unwrap();
    std::fs::write(dir.path().join("notes.txt"), "not a picture").unwrap();
    std::fs::write(dir.path().join(".DS_Store"), "hidden").unwrap();
    let mut seen = Vec::new();
    let report =
        gazette::media::library::import_dir(&app.db, &store, dir.path(), "Courier archive", |p, outcome| {
            seen.push((p.file_name().unwrap().to_string_lossy().into_owned(), outcome.is_ok()))
        })
        .await
        .unwrap();
    assert_eq!(report, (2, 1));
    seen.sort();
    assert_eq!(
        seen,
        [("logo.png".to_owned(), true), ("notes.txt".to_owned(), false), ("quay.jpg".to_owned(), true)]
    );
    let again =
        gazette::media::library::import_dir(&app.db, &store, dir.path(), "", |_, _| {}).await.unwrap();
    assert_eq!(again, (2, 1));
    let all = gazette::storage::pictures::all(&app.db).await.unwrap();
    assert_eq!(all.len(), 2, "nothing imported twice");
    assert!(all.iter().all(|p| p.credit == "Courier archive"));
}

on_both_stores!(a_library_picture_in_a_text_is_a_figure_and_needs_alt_text);

async fn a_library_picture_in_a_text_is_a_figure_and_needs_alt_text(app: TestApp) {
    staff(&app, "ed@example.com", "Ed Itor", Role::Editor).await;
    let mut b = Browser::new(&app);
    b.sign_in("ed@example.com", PASSWORD).await;
    upload(&b, vec![("nets.png", png(900, 600))]).await;
    let id = gazette::storage::pictures::all(&app.db).await.unwrap()[0].id;
    let csrf = b.csrf().await;
    let figure = format!(
        "Nets were mended.\n\n> [!FIGURE]\n> ![](/media/{id})\n> Nets drying on the *harbour* wall.\n> Credit: Jo Lens\n\nEnd."
    );
    let with_body = |status: &'static str, headline: &'static str| {
        let mut form = crate::admin::article_form(&csrf, headline, status, "0");
        form.retain(|(k, _)| *k != "body");
        form.push(("body", figure.as_str()));
        form
    };

    // Neither the text nor the library describes it: it cannot go out, but it can be kept.
    let r = b.post("/admin/articles/new", &with_body("published", "Nets are mended")).await;
    assert_eq!(r.status(), 422);
    let page = r.text().await.unwrap();
    assert!(page.contains(&format!("The picture /media/{id} in the text has no alt text")), "{page}");
    assert!(page.contains("Nets drying on the"), "what was typed is kept");
    let r = b.post("/admin/articles/new", &with_body("draft", "Nets are mended")).await;
    assert_eq!(r.status(), 303);

    // Described in the library: it goes out, drawn in every size, with the text's caption.
    let r = b
        .post(
            &format!("/admin/media/{id}"),
            &[
                ("_csrf", &csrf),
                ("alt", "Green nets on a stone wall"),
                ("caption", ""),
                ("credit", ""),
                ("focus_x", "50"),
                ("focus_y", "50"),
            ],
        )
        .await;
    assert_eq!(r.status(), 200);
    let r = b.post("/admin/articles/new", &with_body("published", "Nets dry on the wall")).await;
    assert_eq!(r.status(), 303);
    app.refresh().await;
    let home = app.page("/", 200).await;
    let link =
        crate::helpers::hrefs(&home).into_iter().find(|h| h.ends_with("/nets-dry-on-the-wall/")).unwrap();
    // Until its files are made the page leaves the picture out (no address that answers 503)...
    let made = gazette::storage::pictures::get(&app.db, id).await.unwrap().unwrap().state == "ready";
    if !made {
        let page = app.page(&link, 200).await;
        assert!(!page.contains(&format!("/media/{id}")), "{page}");
        assert!(page.contains("<figure><figcaption>Nets drying on the"), "{page}");
    }
    // ...and shows it once they are: the pages that use it are rendered again.
    ready(&app, id).await;
    let page = app.page(&link, 200).await;
    assert!(
        page.contains(&format!(
            "<figure><picture><source type=\"image/avif\" srcset=\"/media/{id}/1/320.avif 320w, /media/{id}/1/640.avif 640w, /media/{id}/1/900.avif 900w\" sizes=\"(min-width: 42rem) 40rem, 100vw\">"
        )),
        "{page}"
    );
    assert!(
        page.contains(&format!("/media/{id}/1/900.png 900w\" sizes=\"(min-width: 42rem) 40rem, 100vw\" width=\"900\" height=\"600\" alt=\"Green nets on a stone wall\" loading=\"lazy\" decoding=\"async\"></picture><figcaption>Nets drying on the <em>harbour</em> wall. <span class=\"credit\">Jo Lens</span></figcaption></figure>")),
        "{page}"
    );
    // The text's use of it counts: it cannot be deleted.
    let r = b.post(&format!("/admin/media/{id}"), &[("_csrf", &csrf), ("delete", "1")]).await;
    assert_ne!(r.status(), 303);
    assert_eq!(library_size(&app).await, 1);
}
