//
// Runs one local module on given inputs, as nf-test's nextflow_process does, and records what
// each of its outputs emitted: the pytest twins of modules/local/*/tests/main.nf.test
// (tests/test_modules_nextflow.py) run it with real `nextflow run`.
//
//   nextflow run tests/modules/main.nf --process SEQCLASS_TRAIN --inputs inputs.json \
//       --record outputs.json [--<pipeline param> ...] [-stub]
//
// inputs.json: a list with one entry per process input. In an entry, {"path": "..."} is a
// file() (relative to the repository root, or absolute: what an earlier run emitted, as an
// nf-test setup { } block feeds it on), {"dir": "..."} a file(type: 'dir'); other objects are
// maps (meta) and lists are lists.
// outputs.json: {"<emit>": [item, ...]}, paths written as absolute path strings.
//

include { BWA_INDEX          } from '../../modules/local/bwa_index/main'
include { BWA_MEM_SORT       } from '../../modules/local/bwa_mem_sort/main'
include { SEQCLASS_BUILD     } from '../../modules/local/build/main'
include { SEQCLASS_CHUNK     } from '../../modules/local/chunk/main'
include { SEQCLASS_EVALUATE  } from '../../modules/local/evaluate/main'
include { SEQCLASS_INTERPRET } from '../../modules/local/interpret/main'
include { MULTIQC            } from '../../modules/local/multiqc/main'
include { SEQCLASS_PREDICT   } from '../../modules/local/predict/main'
include { SEQCLASS_PRETRAIN  } from '../../modules/local/pretrain/main'
include { SEQCLASS_REPORT    } from '../../modules/local/report/main'
include { SEQCLASS_SPLIT     } from '../../modules/local/split/main'
include { SEQCLASS_TRAIN     } from '../../modules/local/train/main'

workflow {
    def inputs = new groovy.json.JsonSlurper().parse(file(params.inputs).toFile()).collect { entry -> decodeInput(entry) }
    // processes are called from the workflow itself, one branch per module
    def outputs = null
    if (params.process == 'BWA_INDEX') {
        BWA_INDEX(inputs[0])
        outputs = BWA_INDEX.out
    }
    if (params.process == 'BWA_MEM_SORT') {
        BWA_MEM_SORT(inputs[0], inputs[1])
        outputs = BWA_MEM_SORT.out
    }
    if (params.process == 'SEQCLASS_BUILD') {
        SEQCLASS_BUILD(inputs[0], inputs[1])
        outputs = SEQCLASS_BUILD.out
    }
    if (params.process == 'SEQCLASS_CHUNK') {
        SEQCLASS_CHUNK(inputs[0])
        outputs = SEQCLASS_CHUNK.out
    }
    if (params.process == 'SEQCLASS_EVALUATE') {
        SEQCLASS_EVALUATE(inputs[0])
        outputs = SEQCLASS_EVALUATE.out
    }
    if (params.process == 'SEQCLASS_INTERPRET') {
        SEQCLASS_INTERPRET(inputs[0])
        outputs = SEQCLASS_INTERPRET.out
    }
    if (params.process == 'MULTIQC') {
        MULTIQC(inputs[0], inputs[1])
        outputs = MULTIQC.out
    }
    if (params.process == 'SEQCLASS_PREDICT') {
        SEQCLASS_PREDICT(inputs[0], inputs[1], inputs[2])
        outputs = SEQCLASS_PREDICT.out
    }
    if (params.process == 'SEQCLASS_PRETRAIN') {
        SEQCLASS_PRETRAIN(inputs[0])
        outputs = SEQCLASS_PRETRAIN.out
    }
    if (params.process == 'SEQCLASS_REPORT') {
        SEQCLASS_REPORT(inputs[0], inputs[1], inputs[2], inputs[3], inputs[4], inputs[5])
        outputs = SEQCLASS_REPORT.out
    }
    if (params.process == 'SEQCLASS_SPLIT') {
        SEQCLASS_SPLIT(inputs[0])
        outputs = SEQCLASS_SPLIT.out
    }
    if (params.process == 'SEQCLASS_TRAIN') {
        SEQCLASS_TRAIN(inputs[0], inputs[1])
        outputs = SEQCLASS_TRAIN.out
    }
    if (outputs == null) {
        error("tests/modules/main.nf: no module ${params.process}")
    }
    def recorded = outputs.names.collect { name -> outputs.getProperty(name).toList().map { items -> [ name, items ] } }
    recorded.inject(channel.empty()) { all, one -> all.mix(one) }
        .toList()
        .map { pairs -> file(params.record).text = groovy.json.JsonOutput.toJson(pairs.collectEntries { pair -> [ pair[0], encodeOutput(pair[1]) ] }) }
}

def decodeInput(entry) {
    if (entry instanceof List) {
        return entry.collect { item -> decodeInput(item) }
    }
    // resolve() keeps an absolute path as it is
    def root = file("${projectDir}/../..")
    if (entry instanceof Map && entry.containsKey('path')) {
        return file(root.resolve(entry.path), checkIfExists: true)
    }
    if (entry instanceof Map && entry.containsKey('dir')) {
        return file(root.resolve(entry.dir), checkIfExists: true, type: 'dir')
    }
    return entry
}

def encodeOutput(item) {
    if (item instanceof List) {
        return item.collect { value -> encodeOutput(value) }
    }
    if (item instanceof Map) {
        return item.collectEntries { key, value -> [ key, encodeOutput(value) ] }
    }
    if (item instanceof java.nio.file.Path) {
        return item.toString()
    }
    return item
}
