/*
 * The configuration a `nextflow run` would resolve, printed as flat JSON ("a.b.c": value):
 * Nextflow's own ConfigBuilder with the profiles and command-line params given, which
 * `nextflow config` (25.04) cannot take. Used by tests/test_pipeline.py; run on Nextflow's jars:
 *   java -cp 'tools/nextflow/lib/*' groovy.ui.GroovyMain tests/nextflow_config.groovy \
 *       PROJECT_DIR PROFILES [--param value ...]
 */
import nextflow.cli.CmdRun
import nextflow.config.ConfigBuilder

def flatten(Map map, String prefix = '') {
    map.collectEntries { key, value ->
        def name = prefix + key
        value instanceof Map ? flatten(value, name + '.') : [ (name): value?.toString() ]
    }
}

def project = java.nio.file.Paths.get(args[0])
def profiles = args[1]
def params = args.drop(2).collate(2).collectEntries { pair -> [ (pair[0].replaceFirst('^--', '')): pair[1] ] }
def run = new CmdRun(profile: profiles)
run.params = params
def config = new ConfigBuilder().setBaseDir(project).setProfile(profiles).setCmdRun(run).setShowClosures(true).build()
println groovy.json.JsonOutput.toJson(flatten(config))
