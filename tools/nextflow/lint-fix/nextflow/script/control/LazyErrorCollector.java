/*
 * nf-lang's error collector with empty lists instead of null ones.
 *
 * `nextflow lint` 25.04.4 streams a file's errors and its warnings whenever it has either, and
 * Groovy's ErrorCollector leaves a list null until its first message: a file with only warnings,
 * or only errors, stopped lint with a NullPointerException instead of its report (upstream
 * nextflow-io/nextflow#6199, fixed after the 25.04 line left Maven Central). This class takes
 * nf-lang 25.04.0's place on the classpath (tools/nextflow/launch.sh puts it first); it does
 * what that one does (never throw on errors, so that every error is collected) plus the guard.
 */
package nextflow.script.control;

import java.util.List;

import org.codehaus.groovy.control.CompilerConfiguration;
import org.codehaus.groovy.control.ErrorCollector;
import org.codehaus.groovy.control.messages.Message;
import org.codehaus.groovy.control.messages.WarningMessage;

public class LazyErrorCollector extends ErrorCollector {

    public LazyErrorCollector(CompilerConfiguration configuration) {
        super(configuration);
    }

    @Override
    protected void failIfErrors() {
        // collect every error; the caller reports them all at the end
    }

    @Override
    public List<? extends Message> getErrors() {
        List<? extends Message> errors = super.getErrors();
        return errors != null ? errors : List.of();
    }

    @Override
    public List<WarningMessage> getWarnings() {
        List<WarningMessage> warnings = super.getWarnings();
        return warnings != null ? warnings : List.of();
    }
}
