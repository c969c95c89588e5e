//
// Train a model on the training rows, then score it on the held-out split
//

include { SEQCLASS_TRAIN    } from '../../../modules/local/train/main'
include { SEQCLASS_EVALUATE } from '../../../modules/local/evaluate/main'

workflow TRAIN_EVALUATE {

    take:
    ch_train_table // channel: [ val(meta), path(split or chunks parquet) ]
    ch_split       // channel: [ val(meta), path(split.parquet) ]
    ch_pretrained  // channel: path(language model or checkpoint dir), or [] for none; a value channel

    main:
    ch_versions = Channel.empty()

    SEQCLASS_TRAIN ( ch_train_table, ch_pretrained )
    ch_versions = ch_versions.mix(SEQCLASS_TRAIN.out.versions)

    // evaluate whole sequences of the split table: windows are aggregated as predict does
    SEQCLASS_EVALUATE ( SEQCLASS_TRAIN.out.model.join(ch_split) )
    ch_versions = ch_versions.mix(SEQCLASS_EVALUATE.out.versions)

    emit:
    model       = SEQCLASS_TRAIN.out.model            // channel: [ val(meta), path(model dir) ]
    training_log = SEQCLASS_TRAIN.out.log             // channel: [ val(meta), path(training_log.jsonl) ], may be empty
    evaluation  = SEQCLASS_EVALUATE.out.evaluation    // channel: [ val(meta), path(evaluation dir) ]
    metrics     = SEQCLASS_EVALUATE.out.metrics       // channel: [ val(meta), path(metrics.json) ]
    predictions = SEQCLASS_EVALUATE.out.predictions   // channel: [ val(meta), path(predictions.tsv) ]
    versions    = ch_versions                         // channel: [ path(versions.yml) ]
}
