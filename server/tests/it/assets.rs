//! How the browser code and the pages travel: the code gzipped as the site build wrote it and kept by
//! browsers for a year under its content-named file; pages compressed on the way and never kept.

use reqwest::header::{ACCEPT_ENCODING, CACHE_CONTROL, CONTENT_ENCODING};

use app::domain::access::Role;

use crate::support::app::ASSET_NAME;
use crate::support::{spawn_app, Backend};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_browser_code_is_sent_gzipped_and_kept_a_year_pages_are_never_kept() {
    let app = spawn_app(Backend::Sqlite).await;
    let pkg = app.pki.dir.path().join("site").join("pkg");
    let plain = "export function hydrate() {}\n".repeat(200);
    // What build-site.sh writes beside each file (the bytes only need to be told apart here).
    let gzipped = b"\x1f\x8b pretend gzip".to_vec();
    std::fs::write(pkg.join(format!("{ASSET_NAME}.js")), &plain).expect("js");
    std::fs::write(pkg.join(format!("{ASSET_NAME}.js.gz")), &gzipped).expect("js.gz");
    std::fs::write(pkg.join("vpos.js"), &plain).expect("unhashed js");
    let cert = app
        .operator("M20000031", "assets.admin", &[Role::Administrator])
        .await;
    let client = app.https(Some(&cert));

    let get = |path: String, gzip: bool| {
        let mut request = client.get(app.url(&path));
        if gzip {
            request = request.header(ACCEPT_ENCODING, "gzip");
        }
        request.send()
    };
    let header = |r: &reqwest::Response, name| {
        r.headers()
            .get(name)
            .map(|v| v.to_str().expect("header").to_owned())
    };

    // The content-named file: gzipped to who takes gzip, plain to who does not; a year either way.
    let zipped = get(format!("/pkg/{ASSET_NAME}.js"), true)
        .await
        .expect("get");
    assert_eq!(zipped.status(), 200);
    assert_eq!(header(&zipped, CONTENT_ENCODING).as_deref(), Some("gzip"));
    assert_eq!(
        header(&zipped, CACHE_CONTROL).as_deref(),
        Some("public, max-age=31536000, immutable")
    );
    assert_eq!(zipped.bytes().await.expect("body").to_vec(), gzipped);
    let unzipped = get(format!("/pkg/{ASSET_NAME}.js"), false)
        .await
        .expect("get");
    assert_eq!(header(&unzipped, CONTENT_ENCODING), None);
    assert_eq!(unzipped.text().await.expect("body"), plain);

    // A file of another name (an older build's, say) is asked for again each time.
    let other = get("/pkg/vpos.js".to_owned(), true).await.expect("get");
    assert_eq!(other.status(), 200);
    assert_eq!(header(&other, CACHE_CONTROL).as_deref(), Some("no-cache"));
    let missing = get("/pkg/vpos-ffffffffffffffff.js".to_owned(), true)
        .await
        .expect("get");
    assert_eq!(missing.status(), 404);
    assert_eq!(header(&missing, CACHE_CONTROL).as_deref(), Some("no-cache"));

    // A page: compressed on the way, never kept; it names the build's files.
    let page = get("/login".to_owned(), true).await.expect("get");
    assert_eq!(page.status(), 200);
    assert_eq!(header(&page, CONTENT_ENCODING).as_deref(), Some("gzip"));
    assert_eq!(header(&page, CACHE_CONTROL).as_deref(), Some("no-store"));
    let body = page.bytes().await.expect("body");
    assert_eq!(&body[..2], b"\x1f\x8b");
    let page = get("/login".to_owned(), false).await.expect("get");
    let html = page.text().await.expect("body");
    assert!(html.contains(&format!("/pkg/{ASSET_NAME}.css")), "{html}");
    assert!(html.contains(&format!("/pkg/{ASSET_NAME}.js")), "{html}");
}
