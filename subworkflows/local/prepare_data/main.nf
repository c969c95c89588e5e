//
// Labelled inputs → dataset → leakage-free split → (optional) chunks
//

include { SEQCLASS_BUILD } from '../../../modules/local/build/main'
include { SEQCLASS_SPLIT } from '../../../modules/local/split/main'
include { SEQCLASS_CHUNK } from '../../../modules/local/chunk/main'

workflow PREPARE_DATA {

    take:
    ch_samplesheet // channel: [ val(meta), val(label), path(file) ], one row per samplesheet row
    window         // value: chunk window length, or null to train on whole sequences

    main:
    ch_versions = Channel.empty()

    // every row goes into one dataset; sort by sample so the task hash is stable across runs
    ch_build_input = ch_samplesheet
        .toSortedList { a, b -> a[0].id <=> b[0].id }
        .map { rows -> [ [ id: 'seqclass' ], rows.collect { it[1] ?: '' }, rows.collect { it[2] } ] }

    SEQCLASS_BUILD ( ch_build_input )
    ch_versions = ch_versions.mix(SEQCLASS_BUILD.out.versions)

    SEQCLASS_SPLIT ( SEQCLASS_BUILD.out.dataset )
    ch_versions = ch_versions.mix(SEQCLASS_SPLIT.out.versions)

    ch_train_table = SEQCLASS_SPLIT.out.split
    if (window) {
        SEQCLASS_CHUNK ( SEQCLASS_SPLIT.out.split )
        ch_versions    = ch_versions.mix(SEQCLASS_CHUNK.out.versions)
        ch_train_table = SEQCLASS_CHUNK.out.chunks
    }

    emit:
    dataset         = SEQCLASS_BUILD.out.dataset  // channel: [ val(meta), path(dataset.parquet) ]
    dataset_summary = SEQCLASS_BUILD.out.summary  // channel: [ val(meta), path(dataset.summary.json) ]
    split           = SEQCLASS_SPLIT.out.split    // channel: [ val(meta), path(split.parquet) ]
    split_summary   = SEQCLASS_SPLIT.out.summary  // channel: [ val(meta), path(split.summary.json) ]
    leakage         = SEQCLASS_SPLIT.out.leakage  // channel: [ val(meta), path(split.leakage.tsv) ]
    train_table     = ch_train_table              // channel: [ val(meta), path(chunks or split parquet) ]
    versions        = ch_versions                 // channel: [ path(versions.yml) ]
}
