//
// Apply a trained model to reads, genes or contigs: one task per input file; on request, explain
// the calls (in-silico mutagenesis, occlusion, class tracks along the contigs) in one more task
//

include { SEQCLASS_PREDICT   } from '../../../modules/local/predict/main'
include { SEQCLASS_INTERPRET } from '../../../modules/local/interpret/main'

workflow PREDICT {

    take:
    ch_sequences   // channel: [ val(meta), path(fasta|fastq|table) ]
    ch_model       // channel: path(model dir), a value channel
    ch_short_model // channel: path(short-read model dir), or [] for none; a value channel
    interpret      // value: true to run SEQCLASS_INTERPRET

    main:
    SEQCLASS_PREDICT ( ch_sequences, ch_model, ch_short_model )
    versions = SEQCLASS_PREDICT.out.versions

    interpretation = channel.empty()
    if (interpret) {
        // one task over every input file, so that --interpret_ids may name records of any of them;
        // the lists are wrapped so that combine keeps each whole
        ch_all_sequences = ch_sequences.map { _meta, file -> file }.collect(sort: true).map { files -> [ files ] }
        ch_all_tracks    = SEQCLASS_PREDICT.out.tracks.map { _meta, file -> file }.collect(sort: true).map { files -> [ files ] }
        ch_interpret     = ch_model
            .combine(ch_all_sequences)
            .combine(ch_all_tracks)
            .map { model, files, tracks -> [ [ id: 'seqclass' ], model, files, tracks ] }
        SEQCLASS_INTERPRET ( ch_interpret )
        interpretation = SEQCLASS_INTERPRET.out.interpretation
        versions       = versions.mix(SEQCLASS_INTERPRET.out.versions)
    }
    predictions = SEQCLASS_PREDICT.out.predictions
    tracks      = SEQCLASS_PREDICT.out.tracks

    emit:
    predictions    // channel: [ val(meta), path(predictions.tsv) ]
    tracks         // channel: [ val(meta), path(tracks.tsv) ]
    interpretation // channel: [ val(meta), path(*.interpretation) ]; empty unless interpret
    versions       // channel: [ path(versions.yml) ]
}
