//
// Labelled inputs, or aligned reads with phenotypes → dataset → leakage-free split → (optional) chunks,
// and (optional) short-read chunks for a second model
//

include { SEQCLASS_BUILD } from '../../../modules/local/build/main'
include { SEQCLASS_SPLIT } from '../../../modules/local/split/main'
include { SEQCLASS_CHUNK } from '../../../modules/local/chunk/main'
include { SEQCLASS_CHUNK as SEQCLASS_CHUNK_SHORT } from '../../../modules/local/chunk/main'

workflow PREPARE_DATA {

    take:
    ch_samplesheet     // channel: [ val(meta), val(label), path(file) ], one row per samplesheet row; empty with --reads
    ch_alignments      // channel: [ val(meta), path(bam), path(bai) ], one per sample; empty without --reads
    ch_alignment_files // channel: [ path(reference), path(regions), path(phenotypes) ], a value channel; empty without --reads
    window             // value: chunk window length, or null to train on whole sequences
    short_window       // value: read length of a second, short-read chunk table, or null for none

    main:
    versions = channel.empty()

    // every row (or sample) goes into one dataset; sorted by sample so the task hash is stable
    // across runs. Of the two routes, the one without input sends nothing: filter drops its empty list
    ch_from_files = ch_samplesheet
        .toSortedList { a, b -> a[0].id <=> b[0].id }
        .filter { rows -> rows }
        .map { rows -> [ [ [ id: 'seqclass' ], rows.collect { it[1] ?: '' }, rows.collect { it[2] } ], [ [], [], [], [], [] ] ] }
    // the lists are wrapped so that combine keeps each whole
    ch_from_bams = ch_alignments
        .toSortedList { a, b -> a[0].id <=> b[0].id }
        .filter { rows -> rows }
        .map { rows -> [ rows ] }
        .combine(ch_alignment_files.map { files -> [ files ] })
        .map { rows, files ->
            def (reference, regions, phenotypes) = files
            [ [ [ id: 'seqclass' ], [], [] ], [ rows.collect { it[1] }, rows.collect { it[2] }, regions, reference, phenotypes ] ]
        }
    ch_build_input = ch_from_files.mix(ch_from_bams)

    SEQCLASS_BUILD ( ch_build_input.map { it[0] }, ch_build_input.map { it[1] } )
    versions = versions.mix(SEQCLASS_BUILD.out.versions)

    SEQCLASS_SPLIT ( SEQCLASS_BUILD.out.dataset )
    versions = versions.mix(SEQCLASS_SPLIT.out.versions)

    train_table = SEQCLASS_SPLIT.out.split
    if (window) {
        SEQCLASS_CHUNK ( SEQCLASS_SPLIT.out.split )
        versions    = versions.mix(SEQCLASS_CHUNK.out.versions)
        train_table = SEQCLASS_CHUNK.out.chunks
    }

    short_table = channel.empty()
    if (short_window) {
        // <id>_short: the short-read chunks, model and evaluation are named apart from the long ones
        SEQCLASS_CHUNK_SHORT ( SEQCLASS_SPLIT.out.split.map { meta, table -> [ meta + [ id: "${meta.id}_short".toString() ], table ] } )
        versions    = versions.mix(SEQCLASS_CHUNK_SHORT.out.versions)
        short_table = SEQCLASS_CHUNK_SHORT.out.chunks
    }

    dataset         = SEQCLASS_BUILD.out.dataset
    dataset_summary = SEQCLASS_BUILD.out.summary
    split           = SEQCLASS_SPLIT.out.split
    split_summary   = SEQCLASS_SPLIT.out.summary
    leakage         = SEQCLASS_SPLIT.out.leakage

    emit:
    dataset         // channel: [ val(meta), path(dataset.parquet) ]
    dataset_summary // channel: [ val(meta), path(dataset.summary.json) ]
    split           // channel: [ val(meta), path(split.parquet) ]
    split_summary   // channel: [ val(meta), path(split.summary.json) ]
    leakage         // channel: [ val(meta), path(split.leakage.tsv) ]
    train_table     // channel: [ val(meta), path(chunks or split parquet) ]
    short_table     // channel: [ val(meta: id <id>_short), path(short-read chunks parquet) ]; empty without short_window
    versions        // channel: [ path(versions.yml) ]
}
