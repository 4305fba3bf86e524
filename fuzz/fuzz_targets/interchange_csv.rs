//! Arbitrary bytes as an interchange CSV file: typed errors naming the row,
//! never a panic, with and without skipping bad rows.
#![no_main]

use libfuzzer_sys::fuzz_target;
use switchboard::kpi::{Ingest, IngestOptions, KpiAccumulator, KpiConfig, csv::read_csv};

fuzz_target!(|data: &[u8]| {
    for skip in [false, true] {
        let options = IngestOptions { strict_order: true, detect_duplicates: true, skip_bad_rows: skip };
        let Ok(mut ingest) = Ingest::new(KpiConfig::default(), options) else { return };
        let _ = read_csv(data, &mut ingest);
        let acc = ingest.into_accumulator();
        let _ = acc.report();
        let bytes = acc.to_bytes();
        assert_eq!(KpiAccumulator::from_bytes(&bytes).expect("own bytes decode"), acc);
    }
    let _ = KpiAccumulator::from_bytes(data);
});
