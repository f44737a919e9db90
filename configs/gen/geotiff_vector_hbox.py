# Labels for your own georeferenced scenes: GeoTIFFs (any CRS) with boxes or footprints
# from vector files (GeoPackage, GeoJSON, Shapefile; any CRS, reprojected to the
# raster's) or CSVs of pixel boxes (xmin,ymin,xmax,ymax,class). Scenes are cut into
# 1024 x 1024 windows read on demand; outputs are written back into each scene's frame
# under <work_dir>/geo/: <scene>.tif (labels, 255 = nodata), <scene>.gpkg (polygons with
# class and score), instances.json (COCO, scene pixels). See
# docs/en/user_guides/geospatial.md. data_root holds images/<scene>.tif and
# annotations/<scene>.gpkg (same stem); or list scenes=[dict(img_path=, ann_path=)].
#   python tools/generate_masks.py configs/gen/geotiff_vector_hbox.py \
#       --cfg-options data_root=/my/scenes
_base_ = ['../_base_/gen_runtime.py', '../_base_/models/sam_vit-h.py']
data_root = 'data/scenes'
classes = ('building', )  # your classes; matched against the values of class_field
test_dataloader = dict(dataset=dict(
    type='GeoTIFFSceneDataset',
    data_root=data_root,
    data_prefix=dict(img_path='images', ann_path='annotations'),
    class_field=None,  # the vector attribute holding each object's class
    window_size=1024,
    overlap=256,  # objects up to this size are always prompted whole
    metainfo=dict(classes=classes),
    pipeline=[
        # bands: three 1-based bands shown to SAM as RGB (default 1, 2, 3); value_range:
        # (low, high) mapped to 0-255 for non-8-bit rasters (default: per-window stretch)
        dict(type='LoadGeoTIFFWindow', bands=None, value_range=None),
        dict(type='SAMPrompts', prompts=('hbox', )),
        dict(type='PackSAMInputs'),
    ]))
custom_hooks = [dict(type='GeoSceneExportHook', block_size=1024)]
