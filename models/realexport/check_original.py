"""Compare an exported model's label logits with the original Emotion-LLaMA's on a few clips.

Run it from a checkout of github.com/ZebangCheng/Emotion-LLaMA, in that project's environment
(torch 2.0, transformers 4.30, peft 0.2, a CUDA GPU, the checkpoints its config names), with
onnxruntime installed:

    python check_original.py --cfg-path eval_configs/demo.yaml --onnx /path/to/model.onnx \\
        --clip examples/sample_00000338.mp4 \\
        --transcript "Oh no, my phone and wallet are all in my bag"

For each clip it runs the original pipeline as the demo does (the first frame through the eval
processor, HuBERT last layer mean-pooled, FaceMAE/VideoMAE zeros, `get_context_emb`, one forward
of the language model) and the ONNX model on the same first frame (resized by PIL exactly as the
processor does, before normalisation), the same 16 kHz audio and the same prompt ids, then prints
both logit vectors over the labels' first tokens, the max |Δ|, and whether the argmax agrees. The
original runs in float16, the export in float32: expect differences of order 1e-2 in logits.
The export must use the default options (`--assembly context --pooling last-mean`).

Not run on the machines that built the exporter (no weights there): this is the check a user
with the real weights makes. Written from the public code's structure (eval_utils.init_model,
Chat.encode_img, CONV_VISION_minigptv2, MiniGPTBase.get_context_emb).
"""

import argparse
import json

import numpy as np
import torch


def original_logits(model, vis_processor, clip, transcript, label_ids):
    import cv2
    from PIL import Image
    from transformers import HubertModel, Wav2Vec2FeatureExtractor
    from minigpt4.conversation.conversation import extract_audio_from_video, get_first_frame
    frame = cv2.cvtColor(get_first_frame(clip), cv2.COLOR_BGR2RGB)
    pil = Image.fromarray(frame)
    image = vis_processor(pil).unsqueeze(0).to("cuda:0")
    samples, sr = extract_audio_from_video(clip)
    hub_dir = "checkpoints/transformer/chinese-hubert-large"
    values = Wav2Vec2FeatureExtractor.from_pretrained(hub_dir)(
        samples, sampling_rate=sr, return_tensors="pt").input_values
    hub = HubertModel.from_pretrained(hub_dir).eval()
    with torch.no_grad():
        states = hub(values, output_hidden_states=True).hidden_states
        audio = torch.mean(states[-1], dim=1, keepdim=True)
        feats = torch.cat([torch.zeros(1, 2, 1024), audio], dim=1)
        emb, _ = model.encode_img(image, feats)
        instruction = ("<video><VideoHere></video> <feature><FeatureHere></feature> "
                       f"The person in video says: {transcript}.  [emotion] Please determine "
                       "which emotion label in the video represents: happy, sad, neutral, angry, "
                       "worried, surprise, fear, contempt, doubt. ")
        prompt = "<s>[INST] " + instruction + " [/INST]"
        embs = model.get_context_emb(prompt, [emb])
        with model.maybe_autocast():
            out = model.llama_model(inputs_embeds=embs)
    tok = model.llama_tokenizer  # the pieces get_context_emb tokenizes, BOS on the first only
    ids = [tok(seg, return_tensors="pt", add_special_tokens=i == 0).input_ids[0].tolist()
           for i, seg in enumerate(prompt.split("<VideoHere>"))]
    logits = out.logits[0, -1].float().cpu()
    return logits[label_ids].numpy(), [i for seg in ids for i in seg], pil, samples


def onnx_logits(session, L, H, pil, samples, prompt_ids, feature_dims=None):
    from PIL import Image
    frame = np.asarray(pil.resize((448, 448), Image.BICUBIC), dtype=np.float32) / 255.0
    audio = np.asarray(samples, dtype=np.float32).reshape(1, -1)[:, :16000 * 30]
    feeds = {
        "frames": frame.transpose(2, 0, 1)[None, None].copy(),
        "audio": audio,
        "prompt_ids": np.array([prompt_ids], dtype=np.int64),
        "ar_mode": np.array(0, dtype=np.int64), "ar_tau": np.zeros(L, np.float32),
        "ar_ratio_kind": np.array(2, dtype=np.int64),
        "ar_head_margin": np.array(0, np.float32), "ar_alpha": np.array(0, np.float32),
        "pai_alpha": np.array(0, np.float32), "ar_layers": np.ones(L, np.float32),
        "ar_head_override": np.zeros((L, H), np.float32), "head_gate": np.ones((L, H), np.float32),
    }
    # FaceMAE and VideoMAE as the original demo feeds them: zeros (CONTRACT.md §1b)
    for name, dim in (feature_dims or {}).items():
        feeds[name] = np.zeros((1, dim), np.float32)
    names = [i.name for i in session.get_inputs()]
    return session.run(["logits"], {k: v for k, v in feeds.items() if k in names})[0][0]


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--cfg-path", required=True)
    ap.add_argument("--onnx", required=True)
    ap.add_argument("--clip", action="append", required=True)
    ap.add_argument("--transcript", action="append", default=[])
    ap.add_argument("--options", nargs="+")
    a = ap.parse_args()
    import onnx
    import onnxruntime as ort
    from minigpt4.common.eval_utils import init_model
    meta = {p.key: p.value for p in onnx.load(a.onnx, load_external_data=False).metadata_props}
    arch = json.loads(meta["mosear.architecture"])
    export = json.loads(meta["mosear.export"])
    labels = json.loads(meta["mosear.labels"])
    label_ids = [export["label_first_tokens"][label]["id"] for label in labels]
    model, vis_processor = init_model(a)
    model.eval()
    session = ort.InferenceSession(a.onnx, providers=["CPUExecutionProvider"])
    worst = 0.0
    for i, clip in enumerate(a.clip):
        transcript = a.transcript[i] if i < len(a.transcript) else ""
        ref, ids, pil, samples = original_logits(model, vis_processor, clip, transcript,
                                                 label_ids)
        got = onnx_logits(session, arch["layers"], arch["heads"], pil, samples, ids,
                          export.get("feature_dims"))
        d = float(np.abs(ref - got).max())
        worst = max(worst, d)
        print(f"{clip}: original {np.round(ref, 3).tolist()}\n  export   "
              f"{np.round(got, 3).tolist()}\n  max |Δ| {d:.4f}; argmax "
              f"{labels[int(ref.argmax())]} vs {labels[int(got.argmax())]}")
    print(f"largest |Δ| over {len(a.clip)} clips: {worst:.4f}")


if __name__ == "__main__":
    main()
