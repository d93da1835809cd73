package io.perlspark.model.tokenizer;

import java.io.Serializable;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Objects;
import java.util.OptionalInt;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The built-in word-level tokenizer of the synthetic benchmark.
 *
 * <p>Ids: {@code <pad>}=0, {@code <bos>}=1, {@code <eos>}=2, {@code <unk>}=3, {@code <image>}=4,
 * then the words in list order. Rule: whitespace separates; {@code <image>}, {@code <think>},
 * {@code </think>}, {@code <answer>}, {@code </answer>}, <code>\boxed&#123;</code> and
 * <code>&#125;</code> are atomic tokens; otherwise a token is a run of letters (lower-cased), one
 * digit, or one other character. A token not in the vocabulary becomes {@code <unk>}. Decoding
 * joins tokens with single spaces.
 */
public final class WordTokenizer implements TextTokenizer, Serializable {
  private static final long serialVersionUID = 1L;

  public static final String PAD = "<pad>";
  public static final String BOS = "<bos>";
  public static final String EOS = "<eos>";
  public static final String UNK = "<unk>";
  public static final String IMAGE = "<image>";
  /** The special tokens, at ids 0..4. */
  public static final List<String> SPECIALS = List.of(PAD, BOS, EOS, UNK, IMAGE);

  /** The atomic tokens of the rule. */
  public static final List<String> ATOMIC =
      List.of(IMAGE, "<think>", "</think>", "<answer>", "</answer>", "\\boxed{", "}");

  /**
   * The tokenisation rule. Alternatives are tried in order, so atomic tags win over the
   * single-character fallback ({@code <} would otherwise be split off).
   */
  public static final Pattern TOKEN =
      Pattern.compile(
          "<image>|<think>|</think>|<answer>|</answer>|\\\\boxed\\{|\\}"
              + "|\\p{L}+|\\p{Nd}|[^\\s\\p{L}\\p{Nd}]");

  private final List<String> tokens;
  private final HashMap<String, Integer> ids;
  private final List<String> words;

  private WordTokenizer(List<String> words) {
    this.words = List.copyOf(words);
    List<String> all = new ArrayList<>(SPECIALS);
    HashMap<String, Integer> index = new HashMap<>();
    for (int i = 0; i < SPECIALS.size(); i++) {
      index.put(SPECIALS.get(i), i);
    }
    for (int i = 0; i < words.size(); i++) {
      String w = Objects.requireNonNull(words.get(i), "word at index " + i + " is null");
      if (SPECIALS.contains(w)) {
        // The special tokens are always present at fixed ids; a vocabulary list that names them
        // (e.g. "<image>") means the same token.
        continue;
      }
      if (index.containsKey(w)) {
        throw new IllegalArgumentException(
            "duplicate word '" + w + "' at index " + i + " of the word list");
      }
      List<String> asTokens = split(w);
      if (asTokens.size() != 1 || !asTokens.get(0).equals(w)) {
        throw new IllegalArgumentException(
            "word '"
                + w
                + "' at index "
                + i
                + " can never be produced by the tokenisation rule (it tokenises as "
                + asTokens
                + "); words must be one lower-case letter run, one digit, one punctuation"
                + " character, or one of "
                + ATOMIC);
      }
      index.put(w, all.size());
      all.add(w);
    }
    this.tokens = Collections.unmodifiableList(all);
    this.ids = index;
  }

  /** A tokenizer whose vocabulary is the special tokens followed by {@code words}. */
  public static WordTokenizer of(List<String> words) {
    return new WordTokenizer(Objects.requireNonNull(words, "words"));
  }

  /** Splits text into token strings by the rule (letters lower-cased), without id lookup. */
  public static List<String> split(String text) {
    List<String> out = new ArrayList<>();
    Matcher m = TOKEN.matcher(text);
    while (m.find()) {
      String t = m.group();
      out.add(Character.isLetter(t.codePointAt(0)) ? t.toLowerCase(Locale.ROOT) : t);
    }
    return out;
  }

  /** The words given to {@link #of}, in order (specials excluded from the ids they imply). */
  public List<String> words() {
    return words;
  }

  /** All tokens in id order: the specials, then the words. */
  public List<String> tokens() {
    return tokens;
  }

  /** The token string of an id. */
  public String token(int id) {
    if (id < 0 || id >= tokens.size()) {
      throw new IllegalArgumentException(
          "token id " + id + " is out of range [0, " + tokens.size() + ")");
    }
    return tokens.get(id);
  }

  @Override
  public int[] encode(String text) {
    List<String> parts = split(Objects.requireNonNull(text, "text"));
    int[] out = new int[parts.size()];
    for (int i = 0; i < out.length; i++) {
      Integer id = ids.get(parts.get(i));
      out[i] = id == null ? 3 : id;
    }
    return out;
  }

  @Override
  public String decode(int[] ids) {
    StringBuilder sb = new StringBuilder();
    for (int id : ids) {
      if (id == padId()) {
        continue;
      }
      if (sb.length() > 0) {
        sb.append(' ');
      }
      sb.append(token(id));
    }
    return sb.toString();
  }

  @Override
  public int vocabSize() {
    return tokens.size();
  }

  @Override
  public int padId() {
    return 0;
  }

  @Override
  public int bosId() {
    return 1;
  }

  @Override
  public int eosId() {
    return 2;
  }

  /** The id of {@code <unk>}. */
  public int unkId() {
    return 3;
  }

  @Override
  public int imageId() {
    return 4;
  }

  @Override
  public OptionalInt id(String token) {
    Integer id = ids.get(token);
    return id == null ? OptionalInt.empty() : OptionalInt.of(id);
  }

  @Override
  public TokenizerSource source() {
    return new TokenizerSource(TokenizerSource.Kind.BUILTIN, words, "", "builtin");
  }

  @Override
  public String toString() {
    return "WordTokenizer(" + tokens.size() + " tokens)";
  }
}
