"""Run inside Blender (``blender -b --python THIS -- SCRIPT REPORT.json FRAME.png``): build the
shot with an ``axis export --format grease-pencil`` script, write what Blender holds (objects,
layers, frames, strokes with their points, pressure and track ids) to REPORT.json and render
the first frame with Workbench to FRAME.png. Used by tests/test_export.py."""

import json
import runpy
import sys

import bpy

argv = sys.argv[sys.argv.index("--") + 1 :]
script, report, png = argv
# The factory start-up file's cube would stand in front of the strokes in the render.
if "Cube" in bpy.data.objects:
    bpy.data.objects.remove(bpy.data.objects["Cube"])
ns = runpy.run_path(script, run_name="axis_import")
obj = ns["build"](ns["DATA"])
print("axis-import-done", flush=True)
gpd = obj.data
out = {"objects": [o.name for o in bpy.data.objects if o.type == "GPENCIL"], "layers": {}}
for layer in gpd.layers:
    frames = {}
    for frame in layer.frames:
        strokes = []
        for s in frame.strokes:
            co = [0.0] * (3 * len(s.points))
            s.points.foreach_get("co", co)
            pr = [0.0] * len(s.points)
            s.points.foreach_get("pressure", pr)
            strokes.append({"track_id": ns["track_id"](s), "co": co, "pressure": pr})
        frames[str(frame.frame_number)] = strokes
    out["layers"][layer.info] = frames
if ns["DATA"].get("camera"):
    # the 3D option: every point of frame 1 seen through the shot's camera, in px
    from bpy_extras.object_utils import world_to_camera_view

    scene, cam = bpy.context.scene, bpy.context.scene.camera
    w, h = scene.render.resolution_x, scene.render.resolution_y
    projected = {}
    for layer in gpd.layers:
        frame = next(f for f in layer.frames if f.frame_number == 1)
        projected[layer.info] = [
            [
                [p.x * w, (1.0 - p.y) * h]
                for p in (world_to_camera_view(scene, cam, q.co) for q in s.points)
            ]
            for s in frame.strokes
        ]
    out["projected"] = projected
out["axis_track_ids"] = {k: list(v) for k, v in gpd["axis_track_ids"].items()}
with open(report, "w") as handle:
    json.dump(out, handle)
scene = bpy.context.scene
scene.render.engine = "BLENDER_WORKBENCH"
scene.render.resolution_percentage = 100
scene.frame_set(1)
scene.render.filepath = png
bpy.ops.render.render(write_still=True)
