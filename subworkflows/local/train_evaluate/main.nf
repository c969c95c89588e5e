//
// Train a model on the training rows, then score it on the held-out split; the same for a short-read
// model when there is a short-read chunk table (NucArg: 100-nt reads beside 1024-nt gene windows)
//

include { SEQCLASS_TRAIN                               } from '../../../modules/local/train/main'
include { SEQCLASS_TRAIN as SEQCLASS_TRAIN_SHORT       } from '../../../modules/local/train/main'
include { SEQCLASS_EVALUATE                            } from '../../../modules/local/evaluate/main'
include { SEQCLASS_EVALUATE as SEQCLASS_EVALUATE_SHORT } from '../../../modules/local/evaluate/main'

workflow TRAIN_EVALUATE {

    take:
    ch_train_table // channel: [ val(meta), path(split or chunks parquet) ]
    ch_split       // channel: [ val(meta), path(split.parquet) ]
    ch_pretrained  // channel: path(language model or checkpoint dir), or [] for none; a value channel
    ch_short_table // channel: [ val(meta), path(short-read chunks parquet) ]; empty for no short-read model

    main:
    ch_versions = Channel.empty()

    SEQCLASS_TRAIN ( ch_train_table, ch_pretrained )
    ch_versions = ch_versions.mix(SEQCLASS_TRAIN.out.versions)

    // evaluate whole sequences of the split table: windows are aggregated as predict does
    SEQCLASS_EVALUATE ( SEQCLASS_TRAIN.out.model.join(ch_split) )
    ch_versions = ch_versions.mix(SEQCLASS_EVALUATE.out.versions)

    // no task runs without a short-read table; the model is scored on single held-out reads
    SEQCLASS_TRAIN_SHORT ( ch_short_table, ch_pretrained )
    SEQCLASS_EVALUATE_SHORT ( SEQCLASS_TRAIN_SHORT.out.model.join(ch_short_table) )
    ch_versions = ch_versions.mix(SEQCLASS_TRAIN_SHORT.out.versions, SEQCLASS_EVALUATE_SHORT.out.versions)

    emit:
    model        = SEQCLASS_TRAIN.out.model             // channel: [ val(meta), path(model dir) ]
    short_model  = SEQCLASS_TRAIN_SHORT.out.model       // channel: [ val(meta), path(model dir) ]; empty without a short-read table
    // the short-read model's logs and evaluation beside the long one's (distinct names: <id>_short)
    training_log = SEQCLASS_TRAIN.out.log.mix(SEQCLASS_TRAIN_SHORT.out.log)                  // channel: [ val(meta), path(training_log.jsonl) ], may be empty
    evaluation   = SEQCLASS_EVALUATE.out.evaluation.mix(SEQCLASS_EVALUATE_SHORT.out.evaluation) // channel: [ val(meta), path(evaluation dir) ]
    metrics      = SEQCLASS_EVALUATE.out.metrics        // channel: [ val(meta), path(metrics.json) ]
    predictions  = SEQCLASS_EVALUATE.out.predictions    // channel: [ val(meta), path(predictions.tsv) ]
    versions     = ch_versions                          // channel: [ path(versions.yml) ]
}
