package io.perlspark.common.synth;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import io.perlspark.common.data.AnswerKind;
import io.perlspark.common.data.Sample;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Recomputes a synthetic item's answer from its shape specs and prompt text alone, independently of
 * the generator, and checks the item against it.
 */
final class Oracle {
  private Oracle() {}

  private static final String COLOUR = "(red|green|blue|yellow)";
  private static final String SHAPE = "(circle|square|triangle)";
  private static final Pattern WHICH_IMAGE = Pattern.compile("which image shows a " + COLOUR + " " + SHAPE + " \\?");
  private static final Pattern WHICH_OPTION = Pattern.compile("which option shows a " + COLOUR + " " + SHAPE + " \\?");
  private static final Pattern COUNT_SHAPE = Pattern.compile("how many images show a " + SHAPE + " \\?");
  private static final Pattern COUNT_COLOUR = Pattern.compile("how many images show a " + COLOUR + " shape \\?");
  private static final Pattern ORDER = Pattern.compile("order the images by the size of their shape , smallest first");
  private static final Pattern AT_COLOUR = Pattern.compile("what colour is the shape in image (\\d+) \\?");
  private static final Pattern AT_SHAPE = Pattern.compile("what shape is in image (\\d+) \\?");
  private static final Pattern IS_COLOUR = Pattern.compile("is the shape " + COLOUR + " \\?");
  private static final Pattern IS_SHAPE = Pattern.compile("is this a " + SHAPE + " \\?");

  /** The question after the placeholders (and, for which_option, the option labels). */
  static String question(Sample s) {
    String q = s.prompt().replace("<image>", "");
    q = q.replaceAll("\\b[a-i]: ", "");
    return q.trim();
  }

  static String expectedAnswer(SynthItem item) {
    Sample s = item.sample();
    List<ShapeSpec> shapes = item.shapes();
    String q = question(s);
    Matcher m;
    switch (s.family()) {
      case "which_image", "which_option" -> {
        m = (s.family().equals("which_image") ? WHICH_IMAGE : WHICH_OPTION).matcher(q);
        require(m, q);
        List<Integer> hits = new ArrayList<>();
        for (int i = 0; i < shapes.size(); i++) {
          if (shapes.get(i).colour().wireName().equals(m.group(1)) && shapes.get(i).shape().wireName().equals(m.group(2))) {
            hits.add(i);
          }
        }
        assertEquals(1, hits.size(), "exactly one image must match in " + s.id() + ": " + shapes);
        return s.family().equals("which_image")
            ? Integer.toString(hits.get(0) + 1)
            : Character.toString('A' + s.optionImageSlots().indexOf(hits.get(0)));
      }
      case "count" -> {
        int n = 0;
        if ((m = COUNT_SHAPE.matcher(q)).matches()) {
          for (ShapeSpec sh : shapes) {
            n += sh.shape().wireName().equals(m.group(1)) ? 1 : 0;
          }
        } else if ((m = COUNT_COLOUR.matcher(q)).matches()) {
          for (ShapeSpec sh : shapes) {
            n += sh.colour().wireName().equals(m.group(1)) ? 1 : 0;
          }
        } else {
          fail("unexpected count question: " + q);
        }
        return Integer.toString(n);
      }
      case "order" -> {
        require(ORDER.matcher(q), q);
        List<Integer> slots = new ArrayList<>();
        for (int i = 0; i < shapes.size(); i++) {
          slots.add(i);
        }
        slots.sort(Comparator.comparingInt(i -> shapes.get(i).radius()));
        for (int k = 1; k < slots.size(); k++) {
          int gap = shapes.get(slots.get(k)).radius() - shapes.get(slots.get(k - 1)).radius();
          assertTrue(gap >= 2, "order radii must differ by >= 2 px in " + s.id() + ": " + shapes);
          assertEquals(shapes.get(0).shape(), shapes.get(k).shape(), "order images share one shape");
        }
        StringBuilder sb = new StringBuilder();
        for (int slot : slots) {
          sb.append(sb.length() == 0 ? "" : ",").append(slot + 1);
        }
        return sb.toString();
      }
      case "attribute_at" -> {
        if ((m = AT_COLOUR.matcher(q)).matches()) {
          return shapes.get(Integer.parseInt(m.group(1)) - 1).colour().wireName();
        }
        m = AT_SHAPE.matcher(q);
        require(m, q);
        return shapes.get(Integer.parseInt(m.group(1)) - 1).shape().wireName();
      }
      case "single" -> {
        ShapeSpec only = shapes.get(0);
        if (q.equals("what shape is this ?")) {
          return only.shape().wireName();
        }
        if (q.equals("what colour is this ?")) {
          return only.colour().wireName();
        }
        if ((m = IS_COLOUR.matcher(q)).matches()) {
          return only.colour().wireName().equals(m.group(1)) ? "yes" : "no";
        }
        m = IS_SHAPE.matcher(q);
        require(m, q);
        return only.shape().wireName().equals(m.group(1)) ? "yes" : "no";
      }
      default -> throw new AssertionError("unknown family " + s.family());
    }
  }

  /** Asserts every structural property of a generated item. */
  static void check(SynthItem item) {
    Sample s = item.sample();
    Family f = Family.parse(s.family());
    assertEquals(expectedAnswer(item), s.answer(), s.id() + ": " + s.prompt() + " " + item.shapes());
    assertEquals(item.shapes().size(), s.imageCount());
    assertEquals(s.imageCount(), Sample.countPlaceholders(s.prompt()), "placeholders in " + s.id());
    assertEquals(s.prompt(), s.prompt().toLowerCase(), "prompt is lower case");
    assertEquals(s.prompt(), s.prompt().trim().replaceAll("\\s+", " "), "single spaces");
    assertEquals("synth", s.dataSource());
    assertEquals(f.orderSensitive(), s.orderSensitive());
    assertEquals(List.of(f.multiImage() ? "multi" : "single"), s.stageTags());
    assertTrue(f.multiImage() ? s.imageCount() >= 2 : s.imageCount() == 1);
    if (f.answerKind() != null) {
      assertEquals(f.answerKind(), s.answerKind());
    } else {
      assertTrue(s.answerKind() == AnswerKind.TEXT || s.answerKind() == AnswerKind.YES_NO);
    }
    if (f == Family.WHICH_OPTION) {
      List<Integer> identity = new ArrayList<>();
      StringBuilder labels = new StringBuilder();
      for (int i = 0; i < s.imageCount(); i++) {
        identity.add(i);
        labels.append((char) ('a' + i)).append(": <image> ");
      }
      assertEquals(identity, s.optionImageSlots());
      assertTrue(s.prompt().startsWith(labels.toString()), s.prompt());
    } else {
      assertTrue(s.optionImageSlots().isEmpty());
      assertTrue(s.prompt().startsWith("<image> ".repeat(s.imageCount())), s.prompt());
    }
    StringBuilder trace = new StringBuilder("<think>");
    for (int i = 0; i < item.shapes().size(); i++) {
      ShapeSpec sh = item.shapes().get(i);
      trace.append(" img").append(i + 1).append(' ').append(sh.colour().wireName()).append(' ').append(sh.shape().wireName());
      if (f == Family.WHICH_IMAGE || f == Family.WHICH_OPTION) {
        trace.append(i + 1 == item.answerPosition() ? " yes" : " no");
      }
    }
    assertEquals(trace + " </think> \\boxed{" + s.answer() + "}", item.referenceResponse());
    int expectedPosition = switch (f) {
      case WHICH_IMAGE -> Integer.parseInt(s.answer());
      case WHICH_OPTION -> s.answer().charAt(0) - 'A' + 1;
      default -> 0;
    };
    assertEquals(expectedPosition, item.answerPosition());
  }

  private static void require(Matcher m, String q) {
    if (!m.matches()) {
      fail("unexpected question: " + q);
    }
  }
}
