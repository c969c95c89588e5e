//
// Apply a trained model to reads, genes or contigs: one task per input file
//

include { SEQCLASS_PREDICT } from '../../../modules/local/predict/main'

workflow PREDICT {

    take:
    ch_sequences // channel: [ val(meta), path(fasta|fastq|table) ]
    ch_model     // channel: path(model dir), a value channel

    main:
    SEQCLASS_PREDICT ( ch_sequences, ch_model )

    emit:
    predictions = SEQCLASS_PREDICT.out.predictions // channel: [ val(meta), path(predictions.tsv) ]
    tracks      = SEQCLASS_PREDICT.out.tracks      // channel: [ val(meta), path(tracks.tsv) ]
    versions    = SEQCLASS_PREDICT.out.versions    // channel: [ path(versions.yml) ]
}
