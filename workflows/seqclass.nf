//
// seqclass: train mode (samplesheet → model, metrics) or predict mode (model + sequences → calls)
//

include { ALIGN_READS       } from '../subworkflows/local/align_reads/main'
include { PREPARE_DATA      } from '../subworkflows/local/prepare_data/main'
include { SEQCLASS_PRETRAIN } from '../modules/local/pretrain/main'
include { TRAIN_EVALUATE  } from '../subworkflows/local/train_evaluate/main'
include { PREDICT         } from '../subworkflows/local/predict/main'
include { SEQCLASS_REPORT } from '../modules/local/report/main'
include { MULTIQC         } from '../modules/local/multiqc/main'

workflow SEQCLASS {

    take:
    ch_input       // channel: train [ val(meta), val(label), path(file) ]; predict [ val(meta), path(sequences) ]
    ch_model       // channel: path(model dir) in predict mode, empty in train mode
    ch_short_model // channel: path(short-read model dir), or [] for none; a value channel
    ch_reads       // channel: train with --reads [ val(meta), [ path(fastq_1), path(fastq_2) ] ]; empty otherwise
    ch_alignment_files // channel: with --reads [ path(reference), path(regions), path(phenotypes) ], a value channel; empty otherwise
    mode           // value: 'train' or 'predict'
    window         // value: chunk window length, or null
    short_window   // value: train mode: read length of a second, short-read model, or null
    pretrain_input // value: unlabelled FASTA path or glob to pretrain a language model on, or null
    pretrained     // value: a language model or checkpoint directory to start from, or null
    interpret      // value: predict mode: true to explain the calls (SEQCLASS_INTERPRET)
    multiqc_config // value: path to a MultiQC config YAML

    main:
    ch_versions = channel.empty()

    if (mode == 'train') {
        // --reads: one BAM per sample for `seqclass build --bam` (no task runs without --reads)
        ALIGN_READS ( ch_reads, ch_alignment_files.map { reference, _regions, _phenotypes -> reference } )
        ch_versions = ch_versions.mix(ALIGN_READS.out.versions)

        PREPARE_DATA ( ch_input, ALIGN_READS.out.bam, ch_alignment_files, window, short_window )
        ch_versions = ch_versions.mix(PREPARE_DATA.out.versions)

        // the model starts from a language model pretrained here, a given directory, or nothing
        if (pretrain_input) {
            ch_unlabelled = channel.fromPath(pretrain_input, checkIfExists: true)
                .toSortedList { a, b -> a.name <=> b.name }
                .map { files -> [ [ id: 'seqclass' ], files ] }
            SEQCLASS_PRETRAIN ( ch_unlabelled )
            ch_versions   = ch_versions.mix(SEQCLASS_PRETRAIN.out.versions)
            // a value channel (the one input is): every training task starts from it
            ch_pretrained = SEQCLASS_PRETRAIN.out.lm.map { _meta, lm -> lm }
        } else if (pretrained) {
            ch_pretrained = channel.value(file(pretrained, checkIfExists: true))
        } else {
            ch_pretrained = channel.value([])
        }

        TRAIN_EVALUATE ( PREPARE_DATA.out.train_table, PREPARE_DATA.out.split, ch_pretrained, PREPARE_DATA.out.short_table )
        ch_versions = ch_versions.mix(TRAIN_EVALUATE.out.versions)

        ch_report_tables = PREPARE_DATA.out.dataset_summary
            .join(PREPARE_DATA.out.split_summary)
            .join(PREPARE_DATA.out.leakage)
        ch_evaluations = TRAIN_EVALUATE.out.evaluation.map { _meta, dir -> dir }.collect(sort: true)
        ch_predictions = channel.value([])
        // only the iteratively trained families write a log; none gives an empty list
        ch_trained_models = TRAIN_EVALUATE.out.training_log.map { _meta, log -> log.parent }.collect(sort: true).ifEmpty([])
        ch_interpretations = channel.value([])
    } else {
        PREDICT ( ch_input, ch_model, ch_short_model, interpret )
        ch_versions = ch_versions.mix(PREDICT.out.versions)

        ch_report_tables = channel.value([ [ id: 'seqclass' ], [], [], [] ])
        ch_evaluations   = channel.value([])
        ch_predictions   = PREDICT.out.predictions.map { _meta, tsv -> tsv }.collect(sort: true)
        ch_trained_models = channel.value([])
        // empty unless asked for (--interpret, --interpret_ids)
        ch_interpretations = PREDICT.out.interpretation.map { _meta, dir -> dir }.collect(sort: true).ifEmpty([])
    }

    // identical versions.yml files (one per task of a process) collapse; sorted for -resume
    ch_versions_sorted = ch_versions
        .unique { it.text }
        .toSortedList { a, b -> a.text <=> b.text }

    SEQCLASS_REPORT ( ch_report_tables, ch_evaluations, ch_predictions, ch_versions_sorted, ch_trained_models, ch_interpretations )

    MULTIQC (
        SEQCLASS_REPORT.out.multiqc_files.collect(sort: true),
        channel.value(file(multiqc_config, checkIfExists: true))
    )

    multiqc_report = MULTIQC.out.report
    versions       = ch_versions

    emit:
    multiqc_report // channel: path(multiqc_report.html)
    versions       // channel: [ path(versions.yml) ]
}
