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
    SEQCLASS_TRAIN ( ch_train_table, ch_pretrained )

    // evaluate whole sequences of the split table: windows are aggregated as predict does
    SEQCLASS_EVALUATE ( SEQCLASS_TRAIN.out.model.join(ch_split) )

    // no task runs without a short-read table; the model is scored on single held-out reads
    SEQCLASS_TRAIN_SHORT ( ch_short_table, ch_pretrained )
    SEQCLASS_EVALUATE_SHORT ( SEQCLASS_TRAIN_SHORT.out.model.join(ch_short_table) )

    model        = SEQCLASS_TRAIN.out.model
    short_model  = SEQCLASS_TRAIN_SHORT.out.model
    // the short-read model's logs and evaluation beside the long one's (distinct names: <id>_short)
    training_log = SEQCLASS_TRAIN.out.log.mix(SEQCLASS_TRAIN_SHORT.out.log)
    evaluation   = SEQCLASS_EVALUATE.out.evaluation.mix(SEQCLASS_EVALUATE_SHORT.out.evaluation)
    metrics      = SEQCLASS_EVALUATE.out.metrics
    predictions  = SEQCLASS_EVALUATE.out.predictions
    versions     = SEQCLASS_TRAIN.out.versions.mix(
        SEQCLASS_EVALUATE.out.versions, SEQCLASS_TRAIN_SHORT.out.versions, SEQCLASS_EVALUATE_SHORT.out.versions)

    emit:
    model        // channel: [ val(meta), path(model dir) ]
    short_model  // channel: [ val(meta), path(model dir) ]; empty without a short-read table
    training_log // channel: [ val(meta), path(training_log.jsonl) ], may be empty
    evaluation   // channel: [ val(meta), path(evaluation dir) ]
    metrics      // channel: [ val(meta), path(metrics.json) ]
    predictions  // channel: [ val(meta), path(predictions.tsv) ]
    versions     // channel: [ path(versions.yml) ]
}
