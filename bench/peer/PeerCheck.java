import io.perlspark.common.data.AnswerKind;
import io.perlspark.common.data.ImageRef;
import io.perlspark.common.data.Sample;
import io.perlspark.common.reward.ResponseFormat;
import io.perlspark.common.reward.RewardResult;
import io.perlspark.common.reward.Rewards;
import io.perlspark.common.reward.WeightedReward;
import io.perlspark.model.family.builtin.BuiltinFamily;
import io.perlspark.model.family.builtin.BuiltinPromptProcessor;
import io.perlspark.model.family.builtin.ModelSpec;
import io.perlspark.model.family.builtin.TinyVlm;
import io.perlspark.model.policy.PolicyInput;
import io.perlspark.model.tokenizer.WordTokenizer;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;

/**
 * Our side of the PyTorch peer's sanity checks (bench/peer/perl_step.py --check), run with the
 * application jar on the class path as a single-file program:
 *
 * <pre>
 *   java -cp APP_JAR:SPARK_CP bench/peer/PeerCheck.java vocab
 *   java -cp APP_JAR:SPARK_CP bench/peer/PeerCheck.java score params.bin &lt; cases.tsv
 * </pre>
 *
 * vocab prints the builtin family's token strings in id order, one per line (the peer's tokenizer
 * is built from them, so both sides share one vocabulary). score reads one case per line: answer,
 * answer_kind, prompt text, the images as comma-separated base64 PNGs, response token ids
 * (space-separated), tab-separated; it prints for each the reward of the decoded response (eos
 * stripped, as the rollout worker does) and the per-token log-probs of the response under the
 * checkpoint, as TinyVlm.score computes them for the rollouts' reference log-probs.
 */
public final class PeerCheck {
  public static void main(String[] args) throws Exception {
    WordTokenizer tokenizer = WordTokenizer.of(BuiltinFamily.wordTokenizerVocabulary());
    if (args.length == 1 && args[0].equals("vocab")) {
      for (String t : tokenizer.tokens()) {
        System.out.println(t);
      }
      return;
    }
    if (args.length != 2 || !args[0].equals("score")) {
      System.err.println("usage: PeerCheck vocab | PeerCheck score PARAMS_BIN < cases.tsv");
      System.exit(2);
    }
    byte[] params = Files.readAllBytes(Path.of(args[1]));
    ModelSpec spec = TinyVlm.specOf(params);
    WeightedReward reward = Rewards.standard(ResponseFormat.THINK_BOXED);
    try (TinyVlm model = TinyVlm.builder().setSpec(spec).setTokenizer(tokenizer).build()) {
      model.loadParameters(params);
      BuiltinPromptProcessor processor = new BuiltinPromptProcessor(tokenizer, spec);
      BufferedReader in = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
      for (String line; (line = in.readLine()) != null; ) {
        if (line.isBlank()) {
          continue;
        }
        String[] f = line.split("\t", -1);
        List<byte[]> images = new ArrayList<>();
        List<ImageRef> refs = new ArrayList<>();
        for (String b64 : f[3].split(",")) {
          byte[] png = Base64.getDecoder().decode(b64);
          images.add(png);
          refs.add(ImageRef.ofBytes(png));
        }
        String[] ids = f[4].trim().isEmpty() ? new String[0] : f[4].trim().split(" ");
        int[] response = new int[ids.length];
        for (int i = 0; i < ids.length; i++) {
          response[i] = Integer.parseInt(ids[i]);
        }
        PolicyInput input = processor.process(f[2], images);
        float[] logProbs = model.score(List.of(input), new int[][] {response}, 1f, false).logProbs()[0];
        int[] withoutEos = response;
        if (response.length > 0 && response[response.length - 1] == tokenizer.eosId()) {
          withoutEos = java.util.Arrays.copyOf(response, response.length - 1);
        }
        Sample sample = new Sample("check", refs, f[2], f[0], AnswerKind.parse(f[1]), true, List.of(),
            "which_image", "synth", List.of());
        RewardResult r = reward.score(tokenizer.decode(withoutEos), sample);
        StringBuilder sb = new StringBuilder().append(r.total()).append('\t');
        for (int i = 0; i < logProbs.length; i++) {
          sb.append(i == 0 ? "" : " ").append(logProbs[i]);
        }
        System.out.println(sb);
      }
    }
  }
}
