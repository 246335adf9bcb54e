package io.semisup.jobs.config;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigRenderOptions;
import com.typesafe.config.ConfigValue;
import com.typesafe.config.ConfigValueType;
import java.util.ArrayList;
import java.util.List;

/**
 * The settings a stage reads, as plain-text lines for its {@code --help}: each declared key under
 * the stage's sections with its default from {@code conf/defaults.conf} and its one-line doc, so
 * a user sees what {@code --set} can change without opening the configuration reference.
 */
public final class SettingsHelp {

  /** Indentation of a key line; its doc is indented twice as far. */
  static final String INDENT = "  ";

  private SettingsHelp() {}

  /** The declared settings under any of the given sections or keys, in declaration order. */
  public static List<Setting> under(List<String> sectionsOrKeys) {
    List<Setting> found = new ArrayList<>();
    for (Setting s : SettingsSchema.all()) {
      for (String prefix : sectionsOrKeys) {
        if (s.key().equals(prefix) || s.key().startsWith(prefix + ".")) {
          found.add(s);
          break;
        }
      }
    }
    return found;
  }

  /**
   * One {@code key = default} line per setting and its doc below it, wrapped at word boundaries
   * to {@code width} columns (a single word longer than that stays whole).
   */
  public static List<String> lines(List<String> sectionsOrKeys, int width) {
    Config defaults = SemisupConfig.defaultsTree();
    List<String> out = new ArrayList<>();
    for (Setting s : under(sectionsOrKeys)) {
      out.add(INDENT + s.key() + " = " + defaultOf(defaults, s.key()));
      String doc = s.doc() + (s.affectsResult() ? "" : " Cannot change a result.");
      out.addAll(wrap(doc, INDENT + INDENT + INDENT, width));
    }
    return out;
  }

  /** The default as a user would type it after {@code --set key=}; "(empty)" for an empty string. */
  static String defaultOf(Config defaults, String key) {
    ConfigValue v = defaults.getValue(key);
    String text = v.valueType() == ConfigValueType.STRING
        ? (String) v.unwrapped()
        : v.render(ConfigRenderOptions.concise());
    return text.isEmpty() ? "(empty)" : text;
  }

  /** Greedy word wrap with every line starting with {@code indent}. */
  static List<String> wrap(String text, String indent, int width) {
    List<String> lines = new ArrayList<>();
    StringBuilder line = new StringBuilder(indent);
    for (String word : text.trim().split("\\s+")) {
      boolean empty = line.length() == indent.length();
      if (!empty && line.length() + 1 + word.length() > width) {
        lines.add(line.toString());
        line = new StringBuilder(indent);
        empty = true;
      }
      if (!empty) {
        line.append(' ');
      }
      line.append(word);
    }
    if (line.length() > indent.length()) {
      lines.add(line.toString());
    }
    return lines;
  }
}
