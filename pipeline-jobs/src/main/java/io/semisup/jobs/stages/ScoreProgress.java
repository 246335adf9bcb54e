package io.semisup.jobs.stages;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.apache.hadoop.fs.FileStatus;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * What an unfinished {@code score} run has already committed, so a rerun after a crash scores
 * only the rest. Scoring a billion images takes hours; losing all of it to one dead executor, a
 * pre-empted driver or a full disk is not acceptable, but the stage itself must still publish
 * all-or-nothing ({@link Stage}).
 *
 * <p>Layout, under {@code <run>/_resume/score-<fingerprint>/}: each finished group of shards is a
 * directory {@code group-<uuid>/} with its {@code scores/} and {@code rejects/} tables and a
 * {@code _DONE} file (JSON: the shard files it covers and its counts). A group is scored into
 * {@code _tmp/} and published with one rename, {@code _DONE} included, so a group is either
 * wholly there or absent. The fingerprint covers everything that decides the scores (teacher
 * bytes, backend, batch size, top-P, the shard files and their sizes): progress made with other
 * settings or inputs is discarded, never mixed in. When every shard is done, the groups' files
 * are moved (renamed, not copied) into the stage's staging directory, and this directory goes.
 *
 * <p>Not thread-safe for {@link #open}/{@link #assemble}; {@link #commit} may run from several
 * threads (distinct groups).
 */
final class ScoreProgress {
  private static final Logger LOG = LoggerFactory.getLogger(ScoreProgress.class);

  static final String ROOT = "_resume";
  static final String DONE = "_DONE";
  private static final String PREFIX = "score-";
  private static final String TMP = "_tmp";
  private static final String GROUP = "group-";

  /** One finished group, as its {@code _DONE} file records it. */
  record Group(Path dir, List<String> shards, long scored, long rejected) {}

  /** Totals over all groups. */
  record Totals(long scored, long rejected) {
    long read() {
      return scored + rejected;
    }
  }

  private final FileSystem fs;
  private final Path dir;

  private ScoreProgress(FileSystem fs, Path dir) {
    this.fs = fs;
    this.dir = dir;
  }

  /**
   * The progress directory for this fingerprint, cleaned of what cannot be reused: other
   * fingerprints' directories, half-written groups, and (when {@code discard}, i.e. --force)
   * everything.
   */
  static ScoreProgress open(RunContext ctx, String fingerprint, boolean discard) throws IOException {
    FileSystem fs = ctx.fs();
    Path root = new Path(ctx.runDir(), ROOT);
    Path dir = new Path(root, PREFIX + fingerprint);
    if (fs.exists(root)) {
      for (FileStatus st : fs.listStatus(root)) {
        String n = st.getPath().getName();
        if (n.startsWith(PREFIX) && (discard || !st.getPath().getName().equals(dir.getName()))) {
          LOG.info("[score] discarding progress {} ({})", st.getPath(),
              discard ? "forced" : "made with other settings or inputs");
          fs.delete(st.getPath(), true);
        }
      }
    }
    fs.mkdirs(dir);
    fs.delete(new Path(dir, TMP), true);
    for (FileStatus st : fs.listStatus(dir)) {
      if (st.getPath().getName().startsWith(GROUP) && !fs.exists(new Path(st.getPath(), DONE))) {
        fs.delete(st.getPath(), true);
      }
    }
    return new ScoreProgress(fs, dir);
  }

  Path dir() {
    return dir;
  }

  /** The groups committed so far, in name order. */
  List<Group> done() throws IOException {
    List<Group> groups = new ArrayList<>();
    FileStatus[] all = fs.listStatus(dir);
    Arrays.sort(all);
    for (FileStatus st : all) {
      Path done = new Path(st.getPath(), DONE);
      if (!st.getPath().getName().startsWith(GROUP) || !fs.exists(done)) {
        continue;
      }
      JsonNode j;
      try (var in = fs.open(done)) {
        j = RunContext.json().readTree(in);
      }
      List<String> shards = new ArrayList<>();
      j.get("shards").forEach(s -> shards.add(s.asText()));
      groups.add(new Group(st.getPath(), shards, j.get("scored").asLong(),
          j.get("rejected").asLong()));
    }
    return groups;
  }

  /** Shard names covered by committed groups. */
  Set<String> doneShards() throws IOException {
    Set<String> names = new HashSet<>();
    for (Group g : done()) {
      names.addAll(g.shards());
    }
    return names;
  }

  /** A fresh directory to score a group into. */
  Path tmp(String group) {
    return new Path(new Path(dir, TMP), group);
  }

  /** Publishes a scored group: writes its {@code _DONE} into {@code tmp}, then one rename. */
  void commit(String group, Path tmp, List<String> shards, long scored, long rejected,
      double seconds) throws IOException {
    ObjectNode j = RunContext.json().createObjectNode();
    j.putPOJO("shards", shards);
    j.put("scored", scored);
    j.put("rejected", rejected);
    j.put("seconds", Math.round(seconds * 10) / 10.0);
    try (var out = fs.create(new Path(tmp, DONE), true)) {
      out.write(RunContext.json().writeValueAsBytes(j));
    }
    Path target = new Path(dir, group);
    if (!fs.rename(tmp, target)) {
      throw new IOException("Cannot commit scored group " + tmp + " to " + target
          + ": rename failed");
    }
  }

  /**
   * Moves every committed group's {@code tables} into {@code out/<table>/} and returns the
   * totals. A group's {@code _DONE} goes first, so a crash half-way leaves that group to be
   * rescored, never counted twice; what was already moved lies in the stage's staging
   * directory, which the failed attempt deletes.
   */
  Totals assemble(Path out, String... tables) throws IOException {
    long scored = 0;
    long rejected = 0;
    for (String t : tables) {
      fs.mkdirs(new Path(out, t));
    }
    List<Group> groups = done();
    requireDisjoint(groups);
    for (Group g : groups) {
      scored += g.scored();
      rejected += g.rejected();
      fs.delete(new Path(g.dir(), DONE), false);
      for (String t : tables) {
        Path from = new Path(g.dir(), t);
        if (!fs.exists(from)) {
          continue;
        }
        for (FileStatus f : fs.listStatus(from)) {
          String n = f.getPath().getName();
          if (f.isFile() && !n.startsWith("_") && !n.startsWith(".")) {
            Path to = new Path(new Path(out, t), g.dir().getName() + "-" + n);
            if (!fs.rename(f.getPath(), to)) {
              throw new IOException("Cannot move " + f.getPath() + " to " + to + ": rename failed");
            }
          }
        }
      }
    }
    return new Totals(scored, rejected);
  }

  /**
   * Fails when one shard was scored by two committed groups: assembling both would commit every
   * image of that shard twice. Only a second writer of the run (which the run lock prevents) or
   * a hand-copied group can cause it.
   */
  static void requireDisjoint(List<Group> groups) {
    java.util.Map<String, Path> owner = new java.util.HashMap<>();
    for (Group g : groups) {
      for (String shard : g.shards()) {
        Path first = owner.putIfAbsent(shard, g.dir());
        if (first != null) {
          throw new IllegalStateException("Cannot assemble the scores: shard " + shard
              + " was scored by two groups (" + first.getName() + ", " + g.dir().getName()
              + "), which would commit its images twice. Rerun score with --force.");
        }
      }
    }
  }

  /** Removes the progress directory (after {@link #assemble}, its content is in the stage). */
  void delete() throws IOException {
    fs.delete(dir, true);
    Path root = dir.getParent();
    if (fs.exists(root) && fs.listStatus(root).length == 0) {
      fs.delete(root, false);
    }
  }

  static String newGroupName() {
    return GROUP + java.util.UUID.randomUUID();
  }

  /** Whether {@code dir} holds any data file (not hidden, not a marker). */
  static boolean hasDataFiles(FileSystem fs, Path dir) throws IOException {
    if (!fs.exists(dir)) {
      return false;
    }
    for (FileStatus f : fs.listStatus(dir)) {
      String n = f.getPath().getName();
      if (f.isFile() && !n.startsWith("_") && !n.startsWith(".")) {
        return true;
      }
    }
    return false;
  }
}
