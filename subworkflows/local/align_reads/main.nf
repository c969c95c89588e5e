//
// FASTQ pairs → one coordinate-sorted, indexed BAM per sample (the --reads route of train mode)
//

include { BWA_INDEX    } from '../../../modules/local/bwa_index/main'
include { BWA_MEM_SORT } from '../../../modules/local/bwa_mem_sort/main'

workflow ALIGN_READS {

    take:
    ch_reads     // channel: [ val(meta), [ path(fastq_1), path(fastq_2) ] ], one per sample
    ch_reference // channel: path(reference FASTA), a value channel; empty without --reads

    main:
    BWA_INDEX ( ch_reference.map { fasta -> [ [ id: 'reference' ], fasta ] } )

    // the index is a value channel (its one input is): every sample is aligned to it
    BWA_MEM_SORT ( ch_reads, BWA_INDEX.out.index )

    bam      = BWA_MEM_SORT.out.bam
    versions = BWA_INDEX.out.versions.mix(BWA_MEM_SORT.out.versions)

    emit:
    bam      // channel: [ val(meta), path(bam), path(bai) ]
    versions // channel: [ path(versions.yml) ]
}
