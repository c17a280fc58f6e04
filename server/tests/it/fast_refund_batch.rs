//! Batch fast refunds over HTTP: the template, an upload whose bad rows are shown with their row,
//! column and reason before anything is sent, the error report, the submission of the good rows as
//! one batch (once per key, once per file), cancelling; and hostile files, each answered with a
//! clear problem while the server keeps serving.

use std::io::{Cursor, Write};

use chrono::Duration;
use sea_orm::{ActiveModelTrait, ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter, Set};
use serde_json::json;

use app::api::fast_refunds::{BatchCreated, FileProblem, RowProblem, UploadView};
use app::backend::entities::{fast_refund_batches, fast_refunds, merchants, transactions};
use app::backend::export::{Cell, Column, XlsxExport};
use app::domain::access::Role;
use app::domain::cardholder::CardholderProblem;
use app::domain::fast_refund::BatchColumn;
use app::domain::RefundMode;
use app::error::{AppError, FieldProblem, Policy};
use app::i18n::{Label, Lang};

use crate::clearing::{Shop, UP_CREDIT};
use crate::on_both_backends;
use crate::support::app::TestApp;
use crate::support::browser::Browser;
use crate::support::{spawn_app, Backend};

on_both_backends!(
    a_batch_shows_its_bad_rows_and_sends_the_good_ones_once,
    hostile_files_get_a_clear_answer_and_the_server_keeps_serving,
    a_batch_killed_while_it_is_sent_is_all_there_or_not_at_all,
    a_merchant_requiring_the_token_sends_a_batch_only_with_a_fresh_code,
);

const ID: &str = "11010519491231002X";

async fn agreed(app: &TestApp, shop: &Shop) {
    merchants::ActiveModel {
        id: Set(shop.merchant_id),
        refund_mode: Set(RefundMode::Direct.code().into()),
        refund_requires_token: Set(false),
        daily_refund_quota_fen: Set(100_000_000),
        fast_refund_agreement: Set(true),
        ..Default::default()
    }
    .update(&app.db.conn)
    .await
    .expect("merchant");
}

/// A successful purchase of `amount_fen` an hour ago, on a China Merchants Bank card: its reference.
async fn sale(app: &TestApp, shop: &mut Shop, amount_fen: i64) -> (i64, String) {
    let at = app.clock.now() - Duration::hours(1);
    let id = shop
        .add(
            &app.db,
            ("purchase", "success"),
            UP_CREDIT,
            amount_fen,
            at,
            None,
        )
        .await;
    let t = transactions::Entity::find_by_id(id)
        .one(&app.db.conn)
        .await
        .expect("query")
        .expect("sale");
    (id, t.reference_no)
}

/// A workbook as the template is filled in: its header (in Chinese) and `rows` of text.
pub fn filled(rows: &[[&str; 10]]) -> Vec<u8> {
    let columns: Vec<Column> = BatchColumn::ALL
        .iter()
        .map(|c| Column {
            header: c.label(Lang::ZhCn),
            width: 10.0,
        })
        .collect();
    let mut file = XlsxExport::new("批量快速退货", &columns).expect("workbook");
    for row in rows {
        let cells: Vec<Cell> = row.iter().map(|v| Cell::from(*v)).collect();
        file.push(&cells).expect("row");
    }
    file.finish("说明", &[]).expect("bytes")
}

/// A row of a CMB card's cardholder in Shanghai, by names as a person types them.
fn row<'a>(reference: &'a str, amount: &'a str, name: &'a str, id: &'a str) -> [&'a str; 10] {
    [
        reference,
        amount,
        "顾客退货",
        name,
        "居民身份证",
        id,
        "招商银行",
        "上海市",
        "上海市",
        "上海分行营业部",
    ]
}

async fn upload(browser: &mut Browser<'_>, name: &str, bytes: &[u8]) -> UploadView {
    let answer = browser
        .upload(
            app::ui::paths::fast_refunds::UPLOAD_PATH,
            "file",
            name,
            bytes,
        )
        .await;
    assert_eq!(answer.status, 303, "{}", answer.body);
    let id = answer
        .body
        .rsplit("upload=")
        .next()
        .and_then(|id| id.parse::<i64>().ok())
        .expect("the preview's address");
    view(browser, id).await
}

async fn view(browser: &mut Browser<'_>, id: i64) -> UploadView {
    browser
        .call("fast_refunds/upload_view", &[("id", &id.to_string())])
        .await
        .json()
}

async fn submit(browser: &mut Browser<'_>, id: i64, key: &str) -> crate::support::browser::Answer {
    browser
        .call_json(
            "fast_refunds/batch_submit",
            json!({ "id": id, "key": key, "code": "" }),
        )
        .await
}

async fn a_batch_shows_its_bad_rows_and_sends_the_good_ones_once(backend: Backend) {
    let app = spawn_app(backend).await;
    let mut shop = Shop::open(&app.db, "M74000001").await;
    agreed(&app, &shop).await;
    let (first, first_ref) = sale(&app, &mut shop, 5_000).await;
    let (second, second_ref) = sale(&app, &mut shop, 3_000).await;
    let mut operator = app
        .ready_browser("M74000001", "m74.batch", &[Role::FastRefundOperator])
        .await;

    // The template: the header the upload reads, an example, the instructions, the lists.
    let (status, kind, bytes) = operator
        .download(app::ui::paths::fast_refunds::TEMPLATE_PATH)
        .await;
    assert_eq!(status, 200);
    assert!(kind.contains("spreadsheetml"), "{kind}");
    {
        use calamine::{Reader, Xlsx};
        let mut book: Xlsx<_> = Xlsx::new(Cursor::new(bytes)).expect("a workbook");
        let names = book.sheet_names();
        assert_eq!(names.len(), 3, "{names:?}");
        let data = book.worksheet_range(&names[0]).expect("data sheet");
        let header: Vec<String> = data
            .rows()
            .next()
            .expect("header")
            .iter()
            .map(|c| c.to_string())
            .collect();
        let expected: Vec<String> = BatchColumn::ALL
            .iter()
            .map(|c| c.label(Lang::ZhCn).to_owned())
            .collect();
        assert_eq!(header, expected);
        let lists = book.worksheet_range(&names[2]).expect("lists sheet");
        let banks: Vec<String> = lists
            .rows()
            .skip(1)
            .map(|r| r[0].to_string())
            .filter(|b| !b.is_empty())
            .collect();
        assert_eq!(banks.len(), 9, "{banks:?}");
        assert!(banks.contains(&"招商银行".to_owned()));
    }

    // Two good rows (partial refunds of the first sale, by names), one with a bad check
    // character, one of an unknown reference, one more than the first sale has left after the
    // file's own rows, one of a branch of another city.
    let file = filled(&[
        row(&first_ref, "10.00", "张三", ID),
        row(&first_ref, "20.00", "李四", ID),
        row(&second_ref, "1.00", "王五", "110105194912310021"),
        row("999999999999", "1.00", "赵六", ID),
        row(&first_ref, "20.01", "钱七", ID),
        {
            let mut r = row(&second_ref, "1.00", "孙八", ID);
            r[9] = "中山路支行";
            r
        },
    ]);
    let preview = upload(&mut operator, "退货.xlsx", &file).await;
    assert_eq!(preview.file_problem, None);
    assert_eq!((preview.row_count, preview.valid_count), (6, 2));
    assert_eq!(preview.valid_fen, 3_000);
    let problems: Vec<(u64, Option<BatchColumn>, RowProblem)> = preview
        .errors
        .iter()
        .map(|e| (e.row, e.column, e.problem))
        .collect();
    assert_eq!(
        problems,
        vec![
            (
                4,
                Some(BatchColumn::IdNumber),
                RowProblem::Field(FieldProblem::Cardholder(
                    CardholderProblem::ResidentIdCheckDigit
                ))
            ),
            (5, Some(BatchColumn::Reference), RowProblem::TxnNotFound),
            (
                6,
                Some(BatchColumn::Amount),
                RowProblem::Refusal(app::domain::refund::RefundRefusal::MoreThanRefundable {
                    refundable_fen: 2_000
                })
            ),
            (7, Some(BatchColumn::Branch), RowProblem::NotInList),
        ]
    );
    assert_eq!(preview.earlier_batch, None);
    // Nothing is taken before the operator decides.
    let t = transactions::Entity::find_by_id(first)
        .one(&app.db.conn)
        .await
        .expect("q")
        .expect("t");
    assert_eq!(t.refund_pending_fen, 0);

    // The error report: each problem with its row, column and reason, and the row as it was.
    let (status, _, report) = operator
        .download(&app::ui::paths::fast_refunds::errors_path(preview.id))
        .await;
    assert_eq!(status, 200);
    {
        use calamine::{Reader, Xlsx};
        let mut book: Xlsx<_> = Xlsx::new(Cursor::new(report)).expect("a workbook");
        let first_sheet = book.sheet_names()[0].clone();
        let sheet = book.worksheet_range(&first_sheet).expect("sheet");
        let lines: Vec<Vec<String>> = sheet
            .rows()
            .skip(1)
            .map(|r| r.iter().map(|c| c.to_string()).collect())
            .collect();
        assert_eq!(lines.len(), 4);
        assert_eq!(lines[0][0], "4");
        assert_eq!(lines[0][2], "身份证号码的校验位不正确，请核对。");
        assert_eq!(lines[0][3 + 5], "110105194912310021", "the row as it was");
    }

    // Should another refund take most of the first sale meanwhile, nothing of the batch is sent
    // and the refusal says what is left.
    let pending = |fen: i64| transactions::ActiveModel {
        id: Set(first),
        refund_pending_fen: Set(fen),
        ..Default::default()
    };
    pending(3_000).update(&app.db.conn).await.expect("taken");
    let refused = submit(&mut operator, preview.id, &preview.key).await;
    assert_eq!(
        refused.error(),
        AppError::Refund(app::domain::refund::RefundRefusal::MoreThanRefundable {
            refundable_fen: 2_000
        })
    );
    assert_eq!(
        fast_refunds::Entity::find()
            .count(&app.db.conn)
            .await
            .expect("count"),
        0
    );
    pending(0).update(&app.db.conn).await.expect("given back");

    // Sent: the good rows, once, as one batch.
    let sent: BatchCreated = submit(&mut operator, preview.id, &preview.key).await.json();
    assert_eq!((sent.items, sent.total_fen), (2, 3_000));
    let again: BatchCreated = submit(&mut operator, preview.id, &preview.key).await.json();
    assert_eq!(again, sent, "the same key answers the same batch");
    let items = fast_refunds::Entity::find()
        .filter(fast_refunds::Column::BatchId.eq(sent.batch_id))
        .all(&app.db.conn)
        .await
        .expect("items");
    assert_eq!(items.len(), 2);
    assert!(items
        .iter()
        .all(|i| i.status == "processing" && i.id_number == ID));
    let t = transactions::Entity::find_by_id(first)
        .one(&app.db.conn)
        .await
        .expect("q")
        .expect("t");
    assert_eq!(t.refund_pending_fen, 3_000);
    let untouched = transactions::Entity::find_by_id(second)
        .one(&app.db.conn)
        .await
        .expect("q")
        .expect("t");
    assert_eq!(untouched.refund_pending_fen, 0);
    // The preview is gone once sent.
    let gone = operator
        .call(
            "fast_refunds/upload_view",
            &[("id", &preview.id.to_string())],
        )
        .await;
    assert_eq!(gone.error(), AppError::NotFound);

    // The same file again is recognised, and cannot be sent twice.
    let twice = upload(&mut operator, "退货（副本）.xlsx", &file).await;
    assert_eq!(twice.earlier_batch.map(|(id, _)| id), Some(sent.batch_id));
    let refused = submit(&mut operator, twice.id, &twice.key).await;
    assert_eq!(
        refused.error(),
        AppError::Policy(Policy::BatchAlreadySubmitted)
    );
    assert_eq!(
        fast_refund_batches::Entity::find()
            .count(&app.db.conn)
            .await
            .expect("count"),
        1
    );

    // A file with no good row cannot be sent; a cancelled upload is gone.
    let bad = upload(
        &mut operator,
        "bad.xlsx",
        &filled(&[row("999999999998", "1.00", "周九", ID)]),
    )
    .await;
    assert_eq!(bad.valid_count, 0);
    assert_eq!(
        submit(&mut operator, bad.id, &bad.key).await.error(),
        AppError::Policy(Policy::BatchEmpty)
    );
    let cancelled = operator
        .call("fast_refunds/upload_cancel", &[("id", &bad.id.to_string())])
        .await;
    assert_eq!(cancelled.status, 200, "{}", cancelled.body);
    let gone = operator
        .call("fast_refunds/upload_view", &[("id", &bad.id.to_string())])
        .await;
    assert_eq!(gone.error(), AppError::NotFound);

    // Another operator does not see this one's preview.
    let mut other = app
        .ready_browser("M74000001", "m74.other", &[Role::FastRefundOperator])
        .await;
    let theirs = other
        .call("fast_refunds/upload_view", &[("id", &twice.id.to_string())])
        .await;
    assert_eq!(theirs.error(), AppError::NotFound);

    // An upload nobody decides on is deleted after a day.
    let purge = app::backend::services::fast_refunds::upload::purge;
    assert_eq!(
        purge(&app.db.conn, app.clock.now()).await.expect("purge"),
        0
    );
    assert!(
        purge(&app.db.conn, app.clock.now() + Duration::days(2))
            .await
            .expect("purge")
            >= 1
    );
    let gone = operator
        .call("fast_refunds/upload_view", &[("id", &twice.id.to_string())])
        .await;
    assert_eq!(gone.error(), AppError::NotFound);
}

/// A zip of the given parts.
fn zip_of(parts: &[(&str, &[u8])]) -> Vec<u8> {
    let mut zip = zip::ZipWriter::new(Cursor::new(Vec::new()));
    let options = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated);
    for (name, bytes) in parts {
        zip.start_file(*name, options).expect("part");
        zip.write_all(bytes).expect("write");
    }
    zip.finish().expect("zip").into_inner()
}

const RELS: &str = r#"<?xml version="1.0"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="xl/workbook.xml"/></Relationships>"#;
const WORKBOOK: &str = r#"<?xml version="1.0"?><workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"><sheets><sheet name="Sheet1" sheetId="1" r:id="rId1"/></sheets></workbook>"#;
const WORKBOOK_RELS: &str = r#"<?xml version="1.0"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" Target="worksheets/sheet1.xml"/><Relationship Id="rId2" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/sharedStrings" Target="sharedStrings.xml"/></Relationships>"#;
const TYPES: &str = r#"<?xml version="1.0"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"><Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/><Default Extension="xml" ContentType="application/xml"/></Types>"#;

/// A workbook of hand-written parts: its sheet, and its shared strings when given.
fn handmade(sheet: &[u8], strings: Option<&[u8]>) -> Vec<u8> {
    let mut parts: Vec<(&str, &[u8])> = vec![
        ("[Content_Types].xml", TYPES.as_bytes()),
        ("_rels/.rels", RELS.as_bytes()),
        ("xl/workbook.xml", WORKBOOK.as_bytes()),
        ("xl/_rels/workbook.xml.rels", WORKBOOK_RELS.as_bytes()),
        ("xl/worksheets/sheet1.xml", sheet),
    ];
    if let Some(strings) = strings {
        parts.push(("xl/sharedStrings.xml", strings));
    }
    zip_of(&parts)
}

fn sheet_of(cells: &str) -> Vec<u8> {
    format!(
        r#"<?xml version="1.0"?><worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>{cells}</sheetData></worksheet>"#
    )
    .into_bytes()
}

/// A workbook whose one shared string is `megabytes` MiB of one letter: a few hundred kilobytes
/// that unpack to far more than the reader may hold.
fn string_bomb(megabytes: usize) -> Vec<u8> {
    let mut zip = zip::ZipWriter::new(Cursor::new(Vec::new()));
    let options = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated);
    for (name, bytes) in [
        ("[Content_Types].xml", TYPES.as_bytes().to_vec()),
        ("_rels/.rels", RELS.as_bytes().to_vec()),
        ("xl/workbook.xml", WORKBOOK.as_bytes().to_vec()),
        (
            "xl/_rels/workbook.xml.rels",
            WORKBOOK_RELS.as_bytes().to_vec(),
        ),
        (
            "xl/worksheets/sheet1.xml",
            sheet_of(r#"<row r="1"><c r="A1" t="s"><v>0</v></c></row>"#),
        ),
    ] {
        zip.start_file(name, options).expect("part");
        zip.write_all(&bytes).expect("write");
    }
    zip.start_file("xl/sharedStrings.xml", options)
        .expect("part");
    zip.write_all(br#"<?xml version="1.0"?><sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" count="1" uniqueCount="1"><si><t>"#)
        .expect("write");
    let chunk = vec![b'A'; 1024 * 1024];
    for _ in 0..megabytes {
        zip.write_all(&chunk).expect("write");
    }
    zip.write_all(b"</t></si></sst>").expect("write");
    zip.finish().expect("zip").into_inner()
}

async fn hostile_files_get_a_clear_answer_and_the_server_keeps_serving(backend: Backend) {
    let app = spawn_app(backend).await;
    let shop = Shop::open(&app.db, "M75000001").await;
    agreed(&app, &shop).await;
    let mut operator = app
        .ready_browser("M75000001", "m75.batch", &[Role::FastRefundOperator])
        .await;
    let header: String = BatchColumn::ALL
        .iter()
        .map(|c| {
            format!(
                r#"<c r="{}1" t="inlineStr"><is><t>{}</t></is></c>"#,
                c.letter(),
                c.label(Lang::ZhCn)
            )
        })
        .collect();
    let too_many: Vec<[&str; 10]> = (0..10_001)
        .map(|_| row("000000000001", "1.00", "张三", ID))
        .collect();
    let cases: Vec<(&str, Vec<u8>, FileProblem)> = vec![
        ("not a workbook", b"%PDF-1.7 not a spreadsheet".to_vec(), FileProblem::NotXlsx),
        (
            "a zip without a workbook",
            zip_of(&[("hello.txt", b"hello")]),
            FileProblem::Unreadable,
        ),
        (
            "malformed XML",
            handmade(b"<worksheet><sheetData><row r=\"1\"><c r=\"A1\" t=\"inlineStr\"><is><t>x</t></is></c></row><row r=\"2\"><c r=\"A2\"<<<</worksheet>", None),
            FileProblem::Unreadable,
        ),
        (
            "absurd declared dimensions",
            handmade(
                &format!(
                    r#"<?xml version="1.0"?><worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><dimension ref="A1:XFD1048576"/><sheetData><row r="1">{header}</row></sheetData></worksheet>"#
                )
                .into_bytes(),
                None,
            ),
            FileProblem::Empty,
        ),
        (
            "cells far apart",
            handmade(
                &sheet_of(&format!(
                    r#"<row r="1">{header}</row><row r="1048576"><c r="XFD1048576"><v>1</v></c></row>"#
                )),
                None,
            ),
            FileProblem::CellOutside { row: 1_048_576, column: 16_384 },
        ),
        (
            "an absurd string count",
            handmade(
                &sheet_of(r#"<row r="1"><c r="A1" t="s"><v>0</v></c></row>"#),
                Some(br#"<?xml version="1.0"?><sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" count="999999999999" uniqueCount="999999999999"><si><t>x</t></si></sst>"#),
            ),
            FileProblem::TooBigUnpacked,
        ),
        ("a zip bomb", string_bomb(600), FileProblem::TooBigUnpacked),
        ("too many rows", filled(&too_many), FileProblem::TooManyRows { max_rows: 10_000 }),
        (
            "too large",
            vec![b'x'; 5 * 1024 * 1024 + 1],
            FileProblem::TooLarge { max_bytes: 5 * 1024 * 1024 },
        ),
    ];
    for (what, bytes, expected) in cases {
        let started = std::time::Instant::now();
        let preview = upload(&mut operator, "hostile.xlsx", &bytes).await;
        assert_eq!(preview.file_problem, Some(expected), "{what}");
        assert!(
            started.elapsed() < std::time::Duration::from_secs(30),
            "{what} took {:?}",
            started.elapsed()
        );
        // The server still answers, and nothing can be sent of such a file.
        let health = operator.get("/health").await;
        assert_eq!(health.status, 200, "{what}");
        assert_eq!(
            submit(&mut operator, preview.id, &preview.key)
                .await
                .error(),
            AppError::Policy(Policy::BatchEmpty),
            "{what}"
        );
    }
}

/// The fen of each row of the killed batch.
const KILLED_ROW_FEN: i64 = 1_234;

async fn a_batch_killed_while_it_is_sent_is_all_there_or_not_at_all(backend: Backend) {
    let db = crate::support::TestDb::migrated(backend).await;
    let place = crate::support::process::ServeDir::new(&db);
    let shop = Shop::open(&db, "M76000001").await;
    merchants::ActiveModel {
        id: Set(shop.merchant_id),
        refund_mode: Set(RefundMode::Direct.code().into()),
        daily_refund_quota_fen: Set(100_000_000),
        fast_refund_agreement: Set(true),
        ..Default::default()
    }
    .update(&db.conn)
    .await
    .expect("merchant");
    let login = "m76.batch";
    crate::support::app::operator_with_password(
        &db,
        "M76000001",
        login,
        &[Role::FastRefundOperator],
        Some(crate::support::FIRST_PASSWORD),
    )
    .await;
    place.certify(login);
    // 3,000 sales, and a file refunding ¥12.34 of each.
    let rows = 3_000;
    let at = chrono::Utc::now() - Duration::hours(1);
    let references = shop
        .add_sales(&db, "7", rows, (10_000, ("unionpay", "debit")), at)
        .await;
    let file = filled(
        &references
            .iter()
            .map(|r| row(r, "12.34", "张三", ID))
            .collect::<Vec<_>>(),
    );

    let mut serving = place.serve(&[]).await;
    let client = place.client(login);
    let cookie = place.sign_in(&client, &serving, login).await;
    let boundary = "kill-test-boundary";
    let mut body = format!(
        "--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"kill.xlsx\"\r\n\r\n"
    )
    .into_bytes();
    body.extend_from_slice(&file);
    body.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
    let uploaded = client
        .post(format!(
            "{}{}",
            serving.origin(),
            app::ui::paths::fast_refunds::UPLOAD_PATH
        ))
        .header("origin", serving.origin())
        .header("cookie", &cookie)
        .header(
            "content-type",
            format!("multipart/form-data; boundary={boundary}"),
        )
        .body(body)
        .send()
        .await
        .expect("upload");
    assert_eq!(uploaded.status(), 303);
    let upload_id: i64 = uploaded
        .headers()
        .get("location")
        .and_then(|l| l.to_str().ok())
        .and_then(|l| l.rsplit("upload=").next())
        .and_then(|id| id.parse().ok())
        .expect("the preview");
    let kept = app::backend::entities::fast_refund_uploads::Entity::find_by_id(upload_id)
        .one(&db.conn)
        .await
        .expect("query")
        .expect("the upload");
    assert_eq!((kept.valid_count, kept.file_problem), (rows as i64, None));

    // What is there: batches, items, and what the sales have on their way, read in one statement
    // (one snapshot): the killed process's last COMMIT may still land on the server meanwhile.
    let counts = || async {
        use sea_orm::ConnectionTrait;
        let row = db
            .conn
            .query_one_raw(sea_orm::Statement::from_sql_and_values(
                db.conn.get_database_backend(),
                "SELECT (SELECT COUNT(*) FROM fast_refund_batches) AS batches, \
                 (SELECT COUNT(*) FROM fast_refunds) AS items, \
                 (SELECT CAST(COALESCE(SUM(refund_pending_fen), 0) AS BIGINT) FROM transactions \
                  WHERE merchant_id = $1) AS pending",
                [shop.merchant_id.into()],
            ))
            .await
            .expect("counts")
            .expect("a row");
        let get = |column: &str| row.try_get::<i64>("", column).expect(column);
        (get("batches") as u64, get("items") as u64, get("pending"))
    };
    let submit = |origin: String| {
        let (client, cookie) = (client.clone(), cookie.clone());
        async move {
            client
                .post(format!("{origin}/api/fast_refunds/batch_submit"))
                .header("origin", &origin)
                .header("cookie", &cookie)
                .header("accept", "application/json")
                .json(&json!({ "id": upload_id, "key": "kill-test-key-1", "code": "" }))
                .send()
                .await
        }
    };
    let all = (1, rows as u64, rows as i64 * KILLED_ROW_FEN);
    let mut before_commit = 0;
    let mut committed = false;
    // The process is killed ever later into the submission, until one kill comes after the
    // commit; after every kill the batch is all there or not at all.
    for delay in [0, 20, 50, 100, 150, 200, 300, 450, 700, 1000, 1500, 2500] {
        let sending = tokio::spawn(submit(serving.origin()));
        tokio::time::sleep(std::time::Duration::from_millis(delay)).await;
        serving.kill();
        let _ = sending.await;
        let found = counts().await;
        assert!(
            found == (0, 0, 0) || found == all,
            "killed after {delay} ms: {found:?}"
        );
        serving = place.serve(&[]).await;
        if found == all {
            committed = true;
            break;
        }
        before_commit += 1;
    }
    if !committed {
        let answer = submit(serving.origin()).await.expect("submit");
        let status = answer.status();
        assert_eq!(status, 200, "{}", answer.text().await.unwrap_or_default());
    }
    assert_eq!(counts().await, all);
    // Sent again with its key after the restart: the same batch, nothing more.
    let again = submit(serving.origin()).await.expect("submit");
    assert_eq!(again.status(), 200);
    assert_eq!(counts().await, all);
    println!("{backend:?}: {before_commit} kills before the commit");
}

async fn a_merchant_requiring_the_token_sends_a_batch_only_with_a_fresh_code(backend: Backend) {
    use crate::token::{code, enrol};

    let app = spawn_app(backend).await;
    let mut shop = Shop::open(&app.db, "M75000009").await;
    agreed(&app, &shop).await;
    merchants::ActiveModel {
        id: Set(shop.merchant_id),
        refund_requires_token: Set(true),
        ..Default::default()
    }
    .update(&app.db.conn)
    .await
    .expect("merchant");
    let (first, first_ref) = sale(&app, &mut shop, 5_000).await;
    let (_, second_ref) = sale(&app, &mut shop, 3_000).await;
    let mut operator = app
        .ready_browser("M75000009", "m75t.batch", &[Role::FastRefundOperator])
        .await;
    let secret = enrol(&app, &mut operator).await;
    let file = filled(&[
        row(&first_ref, "12.00", "张三", ID),
        row(&second_ref, "3.00", "李四", ID),
    ]);
    let preview = upload(&mut operator, "token.xlsx", &file).await;
    assert_eq!(preview.valid_count, 2, "{preview:?}");
    assert!(preview.requires_token);
    let send = |key: &str, code: String| json!({ "id": preview.id, "key": key, "code": code });

    // Without a code nothing is sent, and the operator is told where the code goes.
    let refused = operator
        .call_json(
            "fast_refunds/batch_submit",
            send("token-batch-1", String::new()),
        )
        .await;
    assert!(
        refused.error().field_problem("code").is_some(),
        "{}",
        refused.body
    );
    assert_eq!(
        fast_refunds::Entity::find()
            .count(&app.db.conn)
            .await
            .expect("count"),
        0
    );
    assert_eq!(
        transactions::Entity::find_by_id(first)
            .one(&app.db.conn)
            .await
            .expect("query")
            .expect("sale")
            .refund_pending_fen,
        0
    );

    // With a fresh code both rows go, once; asked again (with the code just used), nothing more.
    let fresh = code(&app, &secret, 0);
    let sent = operator
        .call_json(
            "fast_refunds/batch_submit",
            send("token-batch-2", fresh.clone()),
        )
        .await;
    assert_eq!(sent.status, 200, "{}", sent.body);
    let created: BatchCreated = sent.json();
    assert_eq!((created.items, created.total_fen), (2, 1_500));
    assert_eq!(
        fast_refunds::Entity::find()
            .count(&app.db.conn)
            .await
            .expect("count"),
        2
    );
    let again = operator
        .call_json("fast_refunds/batch_submit", send("token-batch-3", fresh))
        .await;
    assert_ne!(again.status, 200, "{}", again.body);
    assert_eq!(
        fast_refunds::Entity::find()
            .count(&app.db.conn)
            .await
            .expect("count"),
        2
    );
}
