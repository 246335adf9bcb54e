package io.semisup.jobs.config;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigRenderOptions;
import com.typesafe.config.ConfigValue;
import com.typesafe.config.ConfigValueType;

/**
 * The configuration reference as a Markdown table (key, type, default, accepted values, meaning),
 * generated from the declarations and {@code conf/defaults.conf}: {@code bin/semisup config
 * --markdown} prints it and the README carries it between marker comments, checked by a test, so
 * the documentation cannot drift from the code again.
 */
public final class SettingsReference {

  /** The README line before the generated table. */
  public static final String BEGIN = "<!-- settings-table:begin (generated: bin/semisup config --markdown) -->";
  /** The README line after the generated table. */
  public static final String END = "<!-- settings-table:end -->";

  private SettingsReference() {}

  /** The table for the defaults of {@code conf/defaults.conf}, one row per declared key. */
  public static String markdown() {
    return markdown(SemisupConfig.defaultsTree());
  }

  static String markdown(Config defaults) {
    StringBuilder md = new StringBuilder();
    md.append("| key | type | default | accepted | meaning |\n");
    md.append("|---|---|---|---|---|\n");
    for (Setting s : SettingsSchema.all()) {
      String accepted = s.allowed();
      md.append("| `").append(s.key()).append("` | ").append(s.type().label()).append(" | ")
          .append(code(defaults.getValue(s.key()))).append(" | ")
          .append(accepted.isEmpty() ? "" : cell(accepted)).append(" | ")
          .append(cell(s.doc())).append(s.affectsResult() ? "" : " Cannot change a result.")
          .append(" |\n");
    }
    return md.toString();
  }

  private static String code(ConfigValue v) {
    String text = v.valueType() == ConfigValueType.STRING
        ? (String) v.unwrapped()
        : v.render(ConfigRenderOptions.concise());
    return text.isEmpty() ? "empty" : "`" + text.replace("|", "\\|") + "`";
  }

  private static String cell(String text) {
    return text.replace("|", "\\|").replace("<", "&lt;");
  }
}
