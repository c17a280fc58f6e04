//! Small helpers so that table definitions read like the data model rather than like builder calls.

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema as s;

/// Surrogate primary key: 64-bit, auto-incrementing on both backends.
pub fn id() -> ColumnDef {
    s::big_pk_auto("id")
}

/// A reference to another table's `id`.
pub fn ref_id(col: &'static str) -> ColumnDef {
    s::big_integer(col)
}

pub fn ref_id_null(col: &'static str) -> ColumnDef {
    s::big_integer_null(col)
}

/// An amount of money in fen (minor units). Never a float.
pub fn fen(col: &'static str) -> ColumnDef {
    s::big_integer(col)
}

pub fn fen_null(col: &'static str) -> ColumnDef {
    s::big_integer_null(col)
}

/// A UTC instant.
pub fn ts(col: &'static str) -> ColumnDef {
    s::timestamp_with_time_zone(col)
}

pub fn ts_null(col: &'static str) -> ColumnDef {
    s::timestamp_with_time_zone_null(col)
}

pub fn text(col: &'static str) -> ColumnDef {
    s::text(col)
}

pub fn text_null(col: &'static str) -> ColumnDef {
    s::text_null(col)
}

pub fn int(col: &'static str) -> ColumnDef {
    s::integer(col)
}

pub fn bigint(col: &'static str) -> ColumnDef {
    s::big_integer(col)
}

pub fn bigint_null(col: &'static str) -> ColumnDef {
    s::big_integer_null(col)
}

pub fn boolean(col: &'static str) -> ColumnDef {
    s::boolean(col)
}

pub fn date(col: &'static str) -> ColumnDef {
    s::date(col)
}

pub fn date_null(col: &'static str) -> ColumnDef {
    s::date_null(col)
}

/// A named CHECK constraint from a plain SQL condition that both backends understand.
pub fn check(name: &'static str, condition: &str) -> (&'static str, Expr) {
    (name, Expr::cust(condition.to_owned()))
}

/// `CHECK (col IN ('a', 'b', …))` for a status or code column.
pub fn one_of(name: &'static str, col: &'static str, codes: &[&str]) -> (&'static str, Expr) {
    (name, Expr::col(col).is_in(codes.iter().copied()))
}

/// A foreign key `table.col → target.id`.
pub fn fk(
    table: &'static str,
    col: &'static str,
    target: &'static str,
    on_delete: ForeignKeyAction,
) -> ForeignKeyCreateStatement {
    ForeignKey::create()
        .name(format!("fk_{table}_{col}"))
        .from(table, col)
        .to(target, "id")
        .on_delete(on_delete)
        .on_update(ForeignKeyAction::NoAction)
        .take()
}

/// A (non-unique) index `ix_<name>` on the given columns.
pub fn index(name: &str, table: &'static str, cols: &[&'static str]) -> IndexCreateStatement {
    let mut idx = Index::create();
    idx.name(format!("ix_{name}")).table(table);
    for col in cols {
        idx.col(*col);
    }
    idx.take()
}

/// A unique index `ux_<name>` on the given columns.
pub fn unique(name: &str, table: &'static str, cols: &[&'static str]) -> IndexCreateStatement {
    let mut idx = index(name, table, cols);
    idx.name(format!("ux_{name}")).unique();
    idx
}

pub async fn drop_tables(
    manager: &SchemaManager<'_>,
    tables: &[&'static str],
) -> Result<(), DbErr> {
    for table in tables {
        manager
            .drop_table(Table::drop().table(*table).to_owned())
            .await?;
    }
    Ok(())
}

/// The card organisations, as stored.
pub const CARD_ORGS: &[&str] = &["unionpay", "visa", "mastercard", "jcb", "amex", "diners"];
pub const CARD_TYPES: &[&str] = &["debit", "credit"];
