//! The batch template (manual §3.6.3 "下载样本文件"): written by the export module in the user's
//! language, with the header the upload reads, an example row, drop-down lists for the bank, the
//! ID type and the province, the instructions, and every city and branch to copy from.

use crate::backend::export::{template as write_template, Column, ExportError, Template};
use crate::domain::cardholder::IdType;
use crate::domain::fast_refund::BatchColumn;
use crate::domain::regions::{branches, PROVINCES};
use crate::domain::Bank;
use crate::i18n::{Label, Lang};

/// Rows formatted for input (text columns, drop-downs) under the example.
const INPUT_ROWS: u32 = 10_000;

pub fn write(lang: Lang) -> Result<Vec<u8>, ExportError> {
    let t = lang.texts();
    let columns: Vec<Column> = BatchColumn::ALL
        .iter()
        .map(|c| Column {
            header: c.label(lang),
            width: match c {
                BatchColumn::Reason | BatchColumn::Branch => 22.0,
                BatchColumn::IdNumber | BatchColumn::Reference => 20.0,
                _ => 14.0,
            },
        })
        .collect();
    let position = |c: BatchColumn| BatchColumn::ALL.iter().position(|x| *x == c);
    let banks: Vec<Bank> = Bank::ALL
        .iter()
        .copied()
        .filter(|b| b.supports_fast_refund())
        .collect();
    let example_bank = Bank::Cmb;
    let shanghai = PROVINCES.iter().find(|p| p.code == "31");
    let example_city = shanghai
        .and_then(|p| p.cities.first())
        .map_or(("3101", "上海市"), |c| *c);
    let example_branch = branches(example_bank, example_city.0)
        .into_iter()
        .next()
        .map(|b| b.name)
        .unwrap_or_default();
    let example = [
        "341200004998",
        "12.50",
        t.fr_template_example_reason,
        "张三",
        IdType::ResidentId.label(lang),
        "11010519491231002X",
        example_bank.label(lang),
        shanghai.map_or("上海市", |p| p.name),
        example_city.1,
        example_branch.as_str(),
    ];
    let cities = PROVINCES
        .iter()
        .flat_map(|p| {
            p.cities
                .iter()
                .map(move |(_, city)| format!("{city}（{}）", p.name))
        })
        .collect();
    let branch_list = banks
        .iter()
        .flat_map(|bank| {
            PROVINCES.iter().flat_map(move |p| {
                p.cities.iter().flat_map(move |(code, city)| {
                    branches(*bank, code)
                        .into_iter()
                        .map(move |b| format!("{} · {city} · {}", bank.label(lang), b.name))
                })
            })
        })
        .collect();
    write_template(&Template {
        sheet: t.fr_template_sheet,
        columns: &columns,
        example: &example,
        text_columns: &[
            position(BatchColumn::Reference).unwrap_or(0),
            position(BatchColumn::Amount).unwrap_or(1),
            position(BatchColumn::IdNumber).unwrap_or(5),
        ],
        input_rows: INPUT_ROWS,
        instructions_sheet: t.fr_template_notes_sheet,
        instructions: t.fr_template_notes,
        lists_sheet: t.fr_template_lists_sheet,
        lists: vec![
            (
                BatchColumn::Bank.label(lang),
                banks.iter().map(|b| b.label(lang).to_owned()).collect(),
                position(BatchColumn::Bank),
            ),
            (
                BatchColumn::IdType.label(lang),
                IdType::ALL
                    .iter()
                    .map(|i| i.label(lang).to_owned())
                    .collect(),
                position(BatchColumn::IdType),
            ),
            (
                BatchColumn::Province.label(lang),
                PROVINCES.iter().map(|p| p.name.to_owned()).collect(),
                position(BatchColumn::Province),
            ),
            (BatchColumn::City.label(lang), cities, None),
            (BatchColumn::Branch.label(lang), branch_list, None),
        ],
    })
}
