//! The import's field mapping: any source columns, any `--field TARGET=SOURCE` map and any
//! row of values onto any layer. Nothing may panic, and an accepted row's values must be
//! ones the layer's fields take.
#![no_main]

use arbitrary::Arbitrary;
use gridgov_import::fuzzing::{map_row, Cell};
use gridgov_model::Layer;
use libfuzzer_sys::fuzz_target;

#[derive(Debug, Arbitrary)]
enum Value {
    Text(String),
    Integer(i64),
    Real(f64),
    Null,
}

#[derive(Debug, Arbitrary)]
struct Input {
    layer: u8,
    field_map: Vec<(String, String)>,
    columns: Vec<String>,
    row: Vec<Value>,
}

fuzz_target!(|input: Input| {
    let layer = Layer::ALL[usize::from(input.layer) % Layer::ALL.len()];
    let row: Vec<Cell> = input
        .row
        .into_iter()
        .map(|v| match v {
            Value::Text(t) => Cell::Text(t),
            Value::Integer(n) => Cell::Integer(n),
            Value::Real(r) => Cell::Real(r),
            Value::Null => Cell::Null,
        })
        .collect();
    if let Ok((_, props)) = map_row(layer, &input.field_map, &input.columns, &row) {
        for name in props.keys() {
            assert!(
                layer.fields().iter().any(|f| f.name == name),
                "{layer}: the mapping produced a field '{name}' the layer does not have"
            );
        }
    }
});
